"""In Chromium: the reading quiz one question at a time, the AI agreement, the run's progress
live over SSE (the real `worker.py ai` asking the local OpenAI-compatible server), the picks
appearing without a reload, feedback, and the result still there after leaving and coming back."""

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from blueberry.jobs import book as book_jobs
from tests.e2e.conftest import sign_in
from tests.fakes.openai import API_KEY
from tests.recommendations import three_authors
from tests.servers import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_env(fake_openai):
    fake_openai.delay_s = 1.5  # slow enough to watch the stages go by
    fake_openai.default = three_authors
    return {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": fake_openai.base_url}


@pytest.fixture
def ai_worker(live_server, live_env, database_url, live_redis):
    env = {**os.environ, **live_env, "DATABASE_URL": database_url, "REDIS_URL": live_redis.url, "SECRET_KEY": "x"}
    process = subprocess.Popen([sys.executable, "worker.py", "ai", "1"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=15)


def choose(page, label: str) -> None:
    """Answer with `label` and go on once the next question is in place."""
    step = int(page.locator(".quiz-count span").inner_text().split("/")[0])
    page.get_by_label(label, exact=True).check()
    next_question(page, step)


def next_question(page, step: int) -> None:
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".quiz-count span")).to_have_text(f"{step + 1} / 10")
    # The new question's handlers are bound once htmx has settled it; typing before that is lost.
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)


def test_quiz_then_live_progress_then_picks(page, make_user, ai_worker, fake_openai):
    book_jobs.load_sample(if_empty=True)
    make_user("mina")
    sign_in(page, "mina")
    page.goto("/recommendations")
    page.get_by_role("link", name="Take the quiz").click()
    expect(page.locator(".quiz-count")).to_contain_text("1 / 10")
    page.get_by_role("button", name="Next").click()  # nothing chosen
    expect(page.locator("#quiz-error")).to_contain_text("Choose at least one.")
    page.get_by_label("소설/시/희곡", exact=True).check()
    next_question(page, 1)
    for label in ("Moving, even if it hurts", "Fiction: novels, stories, poems", "Either",
                  "Steady: a chapter a day"):  # fmt: skip
        choose(page, label)
    page.get_by_label("Family", exact=True).check()
    next_question(page, 6)
    choose(page, "Ones that have lasted")
    page.get_by_role("link", name="Back").click()
    expect(page.locator(".quiz-count")).to_contain_text("7 / 10")
    expect(page.get_by_label("Ones that have lasted", exact=True)).to_be_checked()  # kept
    next_question(page, 7)
    choose(page, "Hidden gems")
    page.get_by_label("Search by title or author").fill("채식")
    page.get_by_role("button", name="Add 채식주의자").click()
    expect(page.locator("#quiz-favourites")).to_contain_text("채식주의자")
    next_question(page, 9)
    page.locator("#quiz-notes").fill("Something quiet for rainy evenings")
    page.get_by_role("button", name="See my recommendations").click()

    expect(page.locator("#ai-consent")).to_contain_text("outside AI service")
    page.wait_for_timeout(300)  # the live stream is open
    page.get_by_role("button", name="Agree and get recommendations").click()
    expect(page.locator(".run-stages .current")).to_have_text("Asking the AI")  # live, by SSE
    expect(page.locator(".pick")).to_have_count(3, timeout=15_000)
    expect(page.locator("#run-source")).to_contain_text("Chosen by AI (gpt-4o-mini)")
    assert "채식주의자" not in page.locator(".pick-list").inner_text()  # favourites are not recommended
    first = page.locator(".pick").first
    first.get_by_role("button", name="More like this").click()
    expect(first.get_by_role("button", name="More like this")).to_have_attribute("aria-pressed", "true")

    page.goto("/")
    expect(page.locator("#home-recommendations .home-picks li")).to_have_count(3)
    page.goto("/recommendations")
    expect(page.locator(".pick")).to_have_count(3)
    expect(page.get_by_role("button", name="Recommend again")).to_be_visible()
    assert "Something quiet" in fake_openai.requests[0]["messages"][1]["content"]
