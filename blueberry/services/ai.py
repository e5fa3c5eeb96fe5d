"""Asking a model, through the `openai` package and any OpenAI-compatible server (OpenAI, a local
Ollama or vLLM): `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`.

It uses the Chat Completions API, the one every compatible server implements, with a strict
JSON schema. A run has one time budget for everything, the client's own retries included: the
client never retries by itself, and a 429, a 5xx or a dropped connection is tried again with
backoff (or the server's Retry-After) only while the budget lasts. Then `Unavailable` says why.
"""

import functools
import json
import random
import time
from dataclasses import dataclass

import openai
from flask import current_app

BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
SHORTEST_CALL_S = 1.0  # less budget than this left: not worth a call


class Unavailable(Exception):
    """The model could not answer within the budget; `reason` is busy, timeout, refused or
    rejected (the server turned the request down: key, model or request)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Usage:
    """What asking cost one run: calls (retries included), tokens and time waiting."""

    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    model_ms: int = 0


def fenced(document: dict, open_marker: str, close_marker: str) -> str:
    """`document` as JSON between two markers, for a prompt whose rules say that nothing inside
    is an instruction. Text from people is only ever a string value of it (escaped: it cannot
    end a value and pose as a key), and cannot close the fence early: the markers never survive
    inside it."""
    body = json.dumps(document, ensure_ascii=False, indent=1)
    body = body.replace(open_marker, "").replace(close_marker, "")
    return f"{open_marker}\n{body}\n{close_marker}"


def configured() -> bool:
    return bool(current_app.config["OPENAI_API_KEY"])


def model_name() -> str:
    return current_app.config["OPENAI_MODEL"]


@functools.cache
def _client(api_key: str, base_url: str | None) -> openai.OpenAI:
    # One client (one connection pool) per process; retries are ours, inside the budget.
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0)


def client() -> openai.OpenAI:
    """This process's client of the configured server."""
    return _client(current_app.config["OPENAI_API_KEY"], current_app.config["OPENAI_BASE_URL"])


def ask(messages: list[dict], response_format: dict, deadline: float, usage: Usage) -> str | None:
    """The model's answer to `messages` before `deadline` (time.monotonic()), or Unavailable."""
    server = client()
    for attempt in range(len(BACKOFF_S) + 1):
        left = deadline - time.monotonic()
        if left < SHORTEST_CALL_S:
            raise Unavailable("timeout", "the time budget ran out")
        try:
            return _call(server, messages, response_format, left, usage)
        except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as error:
            if isinstance(error, openai.APITimeoutError):
                raise Unavailable("timeout", str(error)) from error
            _wait(error, attempt, deadline)
        except openai.APIStatusError as error:
            raise Unavailable("rejected", f"{error.status_code} {error.message}") from error
    raise Unavailable("busy", "still failing after every retry")


def _call(
    server: openai.OpenAI, messages: list[dict], response_format: dict, timeout: float, usage: Usage
) -> str | None:
    usage.attempts += 1
    started = time.monotonic()
    try:
        completion = server.chat.completions.create(
            model=model_name(), messages=messages, response_format=response_format, temperature=0.4, timeout=timeout
        )
    finally:
        usage.model_ms += int((time.monotonic() - started) * 1000)
    if completion.usage:
        usage.tokens_in += completion.usage.prompt_tokens
        usage.tokens_out += completion.usage.completion_tokens
    message = completion.choices[0].message if completion.choices else None
    if message is None or message.refusal:
        raise Unavailable("refused", (message.refusal if message else "no choices")[:500])
    return message.content


def _wait(error: openai.APIError, attempt: int, deadline: float) -> None:
    """Back off before the next try, or give up when that would pass the deadline."""
    pause = _retry_after(error)
    if pause is None:
        pause = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)] * (0.75 + random.random() / 2)
    if attempt >= len(BACKOFF_S) or time.monotonic() + pause + SHORTEST_CALL_S > deadline:
        raise Unavailable("busy", str(error)[:500]) from error
    time.sleep(pause)


def _retry_after(error: openai.APIError) -> float | None:
    response = getattr(error, "response", None)
    try:
        return min(float(response.headers["retry-after"]), 30.0) if response is not None else None
    except (KeyError, ValueError):
        return None
