"""A fake OpenAI-compatible Chat Completions server: a real HTTP server on 127.0.0.1 answering
`POST /v1/chat/completions` with the real JSON shapes (completion, refusal, error bodies), so the
`openai` package talks to it unchanged through `base_url`. Nothing is patched.

Tests steer it by filling `replies` with the behaviours of the next requests, in order; when it is
empty `default` answers (it recommends the ISBN-13s found in the prompt). A behaviour is one of

    ("json", obj)          content is json.dumps(obj)
    ("text", "raw")        content is that string (malformed JSON, say)
    ("refusal", "why")     content is null and message.refusal says why
    ("status", 429)        that HTTP status with OpenAI's error body (429, 500, 503, ...)
    ("sleep", seconds)     wait, then answer with `default` (the client's timeout fires first)
    f(body) -> tuple       one of the above, chosen from the request body

`delay_s` delays every answer (a slow model), `retry_after` adds a `retry-after` header to 429s,
and `requests` holds the parsed body of every authenticated completion request.
"""

import contextlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakes.http import serve, shut

API_KEY = "sk-test-blueberry-0001"
COMPLETIONS_PATH = "/v1/chat/completions"
MAX_BODY = 1024 * 1024
BACKLOG = 256  # socketserver's 5 would drop SYNs under a burst of concurrent clients (1 s retransmit)
ISBN_RE = re.compile(r"\b97[89]\d{10}\b")

Reply = tuple[str, Any]
Behaviour = Reply | Callable[[dict], Reply]
Response = tuple[int, dict[str, str], bytes]

# status -> (type, code, message) of OpenAI's error body
ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", None, "Invalid URL."),
    413: ("invalid_request_error", "request_too_large", "Request body too large."),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def prompt_text(body: dict) -> str:
    """The messages' text joined; a content is a string or a list of parts like {"type": "text", "text": ...}."""
    texts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(texts)


def echo_isbns(body: dict) -> Reply:
    """The default answer: recommend the first 3 distinct ISBN-13s the prompt mentions."""
    isbns = list(dict.fromkeys(ISBN_RE.findall(prompt_text(body))))[:3]
    return "json", {"recommendations": [{"isbn13": i, "comment": f"Comment for {i}."} for i in isbns]}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # roughly what a tokenizer gives for English


def completion(body: dict, content: str | None, refusal: str | None = None) -> dict:
    """A chat.completion object as OpenAI returns it, for the request `body`."""
    prompt_tokens, completion_tokens = _tokens(prompt_text(body)), _tokens(content or refusal or "")
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {
        "id": f"chatcmpl-{secrets.token_urlsafe(21)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_body(status: int, message: str | None = None, param: str | None = None) -> dict:
    kind, code, default = ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, ""))
    return {"error": {"message": message or default, "type": kind, "param": param, "code": code}}


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    # Every real answer carries a request id; the client exposes it as `_request_id`.
    base = {"Content-Type": "application/json", "x-request-id": f"req_{secrets.token_hex(16)}"}
    return status, base | (headers or {}), json.dumps(body, ensure_ascii=False).encode("utf-8")


def _error(status: int, message: str | None = None, param: str | None = None) -> Response:
    return _json(status, error_body(status, message, param))


def _check(body: Any) -> Response | None:
    """The 400 OpenAI gives a request it cannot serve, or None."""
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    for param in ("model", "messages"):
        if not body.get(param):
            return _error(400, f"Missing required parameter: '{param}'.", param)
    if body.get("stream"):
        return _error(400, "FakeOpenAI does not stream.", "stream")  # fail loudly rather than pretend
    return None


class FakeOpenAI:
    """The Chat Completions API on 127.0.0.1 and a free port; point the client at `base_url`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list[Behaviour] = []
        self.default: Behaviour = echo_isbns
        self.delay_s = 0.0
        self.retry_after: float | None = None
        self._lock = threading.Lock()  # handler threads share `requests` and `replies`
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> "FakeOpenAI":
        self._server = serve(_Handler)
        self._server.fake = self
        self._server.socket.listen(BACKLOG)  # listen() again only raises the backlog
        return self

    def stop(self) -> None:
        if self._server:
            # serve_forever sees shutdown() only when its 0.5 s poll ends or a connection wakes it: knock.
            threading.Timer(0.01, _knock, args=(self._server.server_address,)).start()
        shut(self._server)
        self._server = None

    def handle(self, method: str, path: str, authorization: str, raw: bytes | None) -> Response:
        """The answer to one request; `raw` is None when the body was over MAX_BODY."""
        if (method, path) != ("POST", COMPLETIONS_PATH):
            return _error(404, f"Invalid URL ({method} {path})")
        if authorization != f"Bearer {API_KEY}":
            return _error(401)
        if raw is None:
            return _error(413)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problem = _check(body)
        if problem:
            return problem
        with self._lock:
            self.requests.append(body)
            behaviour = self.replies.pop(0) if self.replies else self.default
        time.sleep(self.delay_s)
        return self._answer(behaviour, body)

    def _answer(self, behaviour: Behaviour, body: dict) -> Response:
        kind, value = behaviour(body) if callable(behaviour) else behaviour
        if kind == "sleep":
            time.sleep(value)
            return self._answer(self.default, body)
        if kind == "status":
            retry = {"retry-after": f"{self.retry_after:g}"} if value == 429 and self.retry_after is not None else {}
            return _json(value, error_body(value), retry)
        if kind == "json":
            return _json(200, completion(body, json.dumps(value, ensure_ascii=False)))
        if kind == "text":
            return _json(200, completion(body, value))
        if kind == "refusal":
            return _json(200, completion(body, None, refusal=value))
        return _error(500, f"FakeOpenAI: unknown reply {(kind, value)!r}")  # a test's typo, named in the error


def _knock(address: tuple[str, int]) -> None:
    with contextlib.suppress(OSError):  # refused once the server is closed: it no longer needed waking
        socket.create_connection(address, timeout=1).close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        fake: FakeOpenAI = self.server.fake
        raw = self._read_body()
        path = urlsplit(self.path).path
        status, headers, payload = fake.handle(self.command, path, self.headers.get("Authorization", ""), raw)
        try:
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout): no one to answer, no traceback

    do_GET = do_POST

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= MAX_BODY:
            return self.rfile.read(length)
        # Drain it so a client still sending reads our 413 instead of a reset connection.
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


@pytest.fixture
def fake_openai():
    """A started fake OpenAI, stopped after the test."""
    server = FakeOpenAI().start()
    yield server
    server.stop()
