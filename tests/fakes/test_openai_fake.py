"""The fake OpenAI server behaves like Chat Completions for the real `openai` client."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from openai import OpenAI

from tests.fakes import openai as fake
from tests.fakes.openai import API_KEY, MAX_BODY

MODEL = "gpt-4o-mini"
SCHEMA = {
    "type": "object",
    "properties": {"recommendations": {"type": "array", "items": {"type": "object"}}},
    "required": ["recommendations"],
    "additionalProperties": False,
}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": SCHEMA}}


def client(server: fake.FakeOpenAI, api_key: str = API_KEY, timeout: float = 5) -> OpenAI:
    return OpenAI(api_key=api_key, base_url=server.base_url, max_retries=0, timeout=timeout)


def create(openai_client: OpenAI, text: str):
    messages = [{"role": "system", "content": "You recommend books."}, {"role": "user", "content": text}]
    return openai_client.chat.completions.create(model=MODEL, messages=messages, response_format=RESPONSE_FORMAT)


def ask(server: fake.FakeOpenAI, text: str = "Recommend books.", **options):
    return create(client(server, **options), text)


def content(answer) -> dict:
    return json.loads(answer.choices[0].message.content)


def test_json_reply_parses_with_usage_and_the_request_is_recorded(fake_openai):
    fake_openai.replies.append(("json", {"recommendations": [{"isbn13": "9791190000011", "comment": "좋은 책."}]}))

    answer = ask(fake_openai)

    assert content(answer) == {"recommendations": [{"isbn13": "9791190000011", "comment": "좋은 책."}]}
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-") and answer.model == MODEL
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.refusal is None
    usage = answer.usage
    assert usage.prompt_tokens >= 1 and usage.completion_tokens >= 1
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    (body,) = fake_openai.requests
    assert body["model"] == MODEL and body["messages"][1] == {"role": "user", "content": "Recommend books."}
    assert body["response_format"] == RESPONSE_FORMAT


def test_default_recommends_the_first_three_distinct_isbns_in_the_messages(fake_openai):
    text = (
        "Candidates: 9791190000011, 9788936434120, 9791190000011, 12345, 97911900000119, 9780000000002, 9791190000028"
    )

    answer = ask(fake_openai, text)

    isbns = [r["isbn13"] for r in content(answer)["recommendations"]]
    assert isbns == ["9791190000011", "9788936434120", "9780000000002"]
    assert content(answer)["recommendations"][0]["comment"] == "Comment for 9791190000011."


def test_refusal_has_no_content(fake_openai):
    fake_openai.replies.append(("refusal", "I can't help with that"))

    message = ask(fake_openai).choices[0].message

    assert message.content is None and message.refusal == "I can't help with that"


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, openai.RateLimitError, "rate_limit_error"),
        (500, openai.InternalServerError, "server_error"),
        (503, openai.InternalServerError, "server_error"),
    ],
)
def test_status_replies_raise_the_clients_errors(fake_openai, status, error, kind):
    fake_openai.retry_after = 0
    fake_openai.replies.append(("status", status))

    with pytest.raises(error) as raised:
        ask(fake_openai)

    assert raised.value.status_code == status and raised.value.type == kind
    assert raised.value.response.headers.get("retry-after") == ("0" if status == 429 else None)


def test_429_has_no_retry_after_unless_asked(fake_openai):
    fake_openai.replies.append(("status", 429))

    with pytest.raises(openai.RateLimitError) as raised:
        ask(fake_openai)

    assert raised.value.code == "rate_limit_exceeded" and "retry-after" not in raised.value.response.headers


def test_wrong_key_is_refused_without_using_a_reply(fake_openai):
    fake_openai.replies.append(("text", "unused"))

    with pytest.raises(openai.AuthenticationError) as raised:
        ask(fake_openai, api_key="sk-wrong")

    assert raised.value.code == "invalid_api_key" and raised.value.type == "invalid_request_error"
    assert fake_openai.requests == [] and fake_openai.replies == [("text", "unused")]


def test_sleep_beyond_the_client_timeout_times_out(fake_openai):
    fake_openai.replies.append(("sleep", 2))

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(fake_openai, timeout=0.5)

    assert time.monotonic() - started < 1.5


def test_replies_are_consumed_in_order_then_the_default_answers(fake_openai):
    def echo_model(body: dict) -> tuple:
        return "json", {"model": body["model"]}

    fake_openai.replies += [("text", '{"recommendations": [tru'), echo_model, ("json", {"n": 3})]

    answers = [ask(fake_openai, "Pick from 9791190000011.").choices[0].message.content for _ in range(4)]

    assert answers[0] == '{"recommendations": [tru'
    assert [json.loads(a) for a in answers[1:]] == [
        {"model": MODEL},
        {"n": 3},
        {"recommendations": [{"isbn13": "9791190000011", "comment": "Comment for 9791190000011."}]},
    ]
    assert fake_openai.replies == [] and len(fake_openai.requests) == 4


def test_concurrent_requests_are_delayed_in_parallel(fake_openai):
    fake_openai.delay_s = 0.3
    shared = client(fake_openai)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda n: create(shared, f"Book {9791190000000 + n}"), range(40)))

    assert time.monotonic() - started < 2.0  # one after another would take 12 s
    assert len(fake_openai.requests) == 40 and all(content(a)["recommendations"] for a in answers)


def test_unknown_paths_and_oversized_bodies_get_error_bodies(fake_openai):
    with pytest.raises(openai.NotFoundError):
        client(fake_openai).models.list()

    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.post(f"{fake_openai.base_url}/chat/completions", content=b"x" * (MAX_BODY + 1), headers=headers)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
