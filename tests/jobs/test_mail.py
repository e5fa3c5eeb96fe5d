"""The mail job: over SMTP to a real (local) server, or into the log without MAIL_SERVER."""

import logging
import smtplib

import pytest
import redis
from rq import Worker
from rq.serializers import JSONSerializer

from blueberry.jobs import get_queue
from blueberry.jobs.mail import send_mail
from tests.fakes import smtp
from tests.fakes.smtp import SMTPServer
from tests.servers import free_port

smtp_server = smtp.smtp_server  # the fixture, as a conftest would expose it

LINK = "http://blueberry.test/auth/email/verify/abc.def"
BODY = f"Hello,\n\nopen this link:\n\n{LINK}\n"


@pytest.fixture
def mail_config(app):
    def point_at(server: SMTPServer, **extra):
        app.config.update({"MAIL_SERVER": server.host, "MAIL_PORT": server.port, "MAIL_USE_TLS": False, **extra})

    return point_at


def test_job_sends_through_smtp_on_a_real_worker(app, smtp_server, mail_config, redis_server):
    mail_config(smtp_server)
    connection = redis.Redis.from_url(redis_server.url)
    job = get_queue("default", connection).enqueue(
        "blueberry.jobs.mail.send_mail", "mina@example.com", "Confirm your address", BODY
    )
    Worker(["default"], connection=connection, serializer=JSONSerializer).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value() == "sent"
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["mina@example.com"] and mail.mail_from == "no-reply@blueberry.local"
    assert mail.message["To"] == "mina@example.com"
    assert mail.message["From"] == "Blueberry <no-reply@blueberry.local>"
    assert mail.message["Subject"] == "Confirm your address"
    assert mail.links == [LINK]
    assert mail.login is None and mail.tls is False


def test_job_encodes_korean_subject_and_body(app, smtp_server, mail_config):
    mail_config(smtp_server)
    send_mail("mina@example.com", "블루베리 이메일 인증", "안녕하세요,\n" + LINK + "\n")
    (mail,) = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "블루베리 이메일 인증"
    assert "안녕하세요" in mail.body and mail.links == [LINK]


def test_job_uses_starttls_and_logs_in_when_configured(app, mail_config, tmp_path):
    server = SMTPServer(users={"mailer": "s3cret"}, tls_dir=tmp_path / "tls").start()
    try:
        mail_config(server, MAIL_USE_TLS=True, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret")
        assert send_mail("mina@example.com", "Hi", BODY) == "sent"
        (mail,) = server.wait_for(1)
        assert mail.tls is True and mail.login == "mailer"
    finally:
        server.stop()


def test_job_without_starttls_is_refused_by_a_server_that_requires_it(app, mail_config, tmp_path):
    server = SMTPServer(users={"mailer": "s3cret"}, tls_dir=tmp_path / "tls").start()
    try:
        mail_config(server, MAIL_USE_TLS=False, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret")
        with pytest.raises(smtplib.SMTPException):
            send_mail("mina@example.com", "Hi", BODY)
        assert server.messages == []
    finally:
        server.stop()


def test_refused_recipient_is_not_retried(app, smtp_server, mail_config, caplog):
    mail_config(smtp_server)
    smtp_server.refuse.add("gone@example.com")
    with caplog.at_level(logging.WARNING, logger="blueberry.jobs.mail"):
        assert send_mail("gone@example.com", "Hi", BODY) == "refused"
    assert "gone@example.com" in caplog.text
    assert smtp_server.messages == []


def test_unreachable_server_raises_so_rq_retries(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_USE_TLS=False)
    with pytest.raises(OSError):
        send_mail("mina@example.com", "Hi", BODY)


def test_without_mail_server_the_mail_goes_to_the_log(app, caplog):
    app.config["MAIL_SERVER"] = ""
    with caplog.at_level(logging.INFO, logger="blueberry.jobs.mail"):
        assert send_mail("mina@example.com", "Confirm your address", BODY) == "logged"
    assert "mina@example.com" in caplog.text and "Confirm your address" in caplog.text
    assert LINK in caplog.text


def test_production_without_mail_server_keeps_links_out_of_the_log(app, caplog):
    app.config.update(MAIL_SERVER="", ENV="production")
    with caplog.at_level(logging.INFO, logger="blueberry.jobs.mail"):
        assert send_mail("mina@example.com", "Confirm your address", BODY) == "dropped"
    assert "MAIL_SERVER is not set" in caplog.text and LINK not in caplog.text
