"""Sending mail from a worker: through MAIL_SERVER over SMTP, or into the log when none is set."""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 20


def send_mail(to: str, subject: str, body: str, unsubscribe: str = "") -> str:
    """Send a plain-text mail; without MAIL_SERVER, write it to the log (development). With an
    `unsubscribe` link, mail programs offer it too (List-Unsubscribe, one click)."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return _log_mail(to, subject, body)
    message = _message(config["MAIL_FROM"], to, subject, body)
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    try:
        _deliver(config, message)
    except smtplib.SMTPRecipientsRefused:
        # The server will not take this address: retrying cannot help.
        log.warning("mail to %s refused by %s", to, config["MAIL_SERVER"])
        return "refused"
    return "sent"


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    return message


def _deliver(config, message: EmailMessage) -> None:
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_S) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _log_mail(to: str, subject: str, body: str) -> str:
    if current_app.config["ENV"] == "production":
        # Its links are keys to accounts: they do not belong in production logs.
        log.error("MAIL_SERVER is not set: mail to %s (%s) was not sent", to, subject)
        return "dropped"
    log.warning("MAIL_SERVER is not set, so here is the mail instead:\nTo: %s\nSubject: %s\n\n%s", to, subject, body)
    return "logged"
