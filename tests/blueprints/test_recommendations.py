"""The reading quiz and the recommendations pages: one question at a time with errors and
resuming, favourites from the catalog, the AI agreement, starting a run, its fragment, feedback,
the settings page, and answers 404 for other people's runs and picks."""

import pytest

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs import get_queue
from blueberry.jobs.recommendation import recommend
from blueberry.models import AiRun
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import recommendation, taste
from tests.conftest import get_csrf, login
from tests.fakes.openai import API_KEY
from tests.recommendations import three_authors

HTMX = {"HX-Request": "true"}
VALID = [
    {"genres": ["소설/시/희곡", "인문학"]}, {"mood": "warm"}, {"fiction": "both"}, {"origin": "either"},
    {"pace": "quick"}, {"themes": ["family", "history"]}, {"era": "any"}, {"popularity": "hidden"}, {},
    {"notes": "비 오는 날 읽을 책"},
]  # fmt: skip


@pytest.fixture
def mina(client, make_user, app):
    book_jobs.load_sample(if_empty=True)
    user = make_user("mina")
    login(client, "mina")
    return user


def answer(client, step: int, token: str, **data):
    return client.post("/recommendations/quiz", data={"csrf_token": token, "step": step, **data}, headers=HTMX)


def take_quiz(client) -> None:
    token = get_csrf(client, "/recommendations/quiz")
    for step, data in enumerate(VALID, start=1):
        response = answer(client, step, token, **data)
        assert response.status_code in (200, 204), (step, response.get_data(as_text=True)[:500])


def test_the_quiz_goes_one_question_at_a_time_and_finishes(client, mina):
    page = client.get("/recommendations/quiz").get_data(as_text=True)
    assert "1 / 10" in page and "소설/시/희곡" in page  # the genres are the catalog's categories
    token = get_csrf(client, "/recommendations/quiz")
    second = answer(client, 1, token, genres=["소설/시/희곡"])
    assert "2 / 10" in second.get_data(as_text=True) and second.headers["HX-Push-Url"].endswith("step=2")
    take_quiz(client)
    profile = taste.profile_of(mina.id)
    assert profile.completed_at is not None and profile.answers["mood"] == "warm"
    assert profile.answers["notes"] == "비 오는 날 읽을 책"
    assert "Get recommendations" in client.get("/recommendations").get_data(as_text=True)


@pytest.mark.parametrize(
    ("step", "data", "error"),
    [
        (1, {}, "Choose at least one."),
        (1, {"genres": ["<script>x</script>"]}, "Choose from the list."),
        (1, {"genres": ["소설/시/희곡", "인문학", "에세이", "역사"]}, "Choose up to 3."),
        (2, {"mood": "angry"}, "Choose from the list."),
        (2, {}, "Choose one."),
        (10, {"notes": "가" * 501}, "Keep it within 500 characters."),
    ],
)
def test_a_bad_answer_shows_its_error_and_keeps_the_step(client, mina, step, data, error):
    token = get_csrf(client, "/recommendations/quiz")
    response = answer(client, step, token, **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and error in page and f"{step} / 10" in page
    assert "<script>x</script>" not in page
    profile = taste.profile_of(mina.id)
    assert profile is None or step == 1 or taste.QUESTIONS[step - 1].key not in profile.answers


def test_leaving_and_coming_back_resumes_with_the_answers(client, mina):
    token = get_csrf(client, "/recommendations/quiz")
    for step, data in enumerate(VALID[:3], start=1):
        answer(client, step, token, **data)
    page = client.get("/recommendations/quiz").get_data(as_text=True)
    assert "4 / 10" in page
    back = client.get("/recommendations/quiz?step=2").get_data(as_text=True)
    assert 'value="warm" checked' in back
    assert "Continue the quiz (4 / 10)" in client.get("/recommendations").get_data(as_text=True)


def test_favourite_books_are_added_from_the_catalog_up_to_three(client, mina):
    token = get_csrf(client, "/recommendations/quiz?step=9")
    found = client.get("/recommendations/quiz/books?q=채식", headers=HTMX).get_data(as_text=True)
    assert "채식주의자" in found
    isbns = [book.isbn13 for book in catalog.bestsellers(4)]
    for isbn in isbns[:3]:
        added = client.post(
            "/recommendations/quiz/favourites", data={"csrf_token": token, "isbn13": isbn}, headers=HTMX
        )
        assert added.status_code == 200
    refused = client.post(
        "/recommendations/quiz/favourites", data={"csrf_token": token, "isbn13": isbns[3]}, headers=HTMX
    )
    assert "Choose up to 3." in refused.get_data(as_text=True)
    unknown = client.post(
        "/recommendations/quiz/favourites", data={"csrf_token": token, "isbn13": "9790000000000"}, headers=HTMX
    )
    assert "not in our catalog" in unknown.get_data(as_text=True)
    client.post(
        "/recommendations/quiz/favourites",
        data={"csrf_token": token, "isbn13": isbns[0], "action": "remove"},
        headers=HTMX,
    )
    assert taste.profile_of(mina.id).answers["favourites"] == isbns[1:3]


def test_the_ai_agreement_is_asked_once_and_a_run_is_queued(client, mina, app, fake_openai):
    app.config.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake_openai.base_url)
    take_quiz(client)
    page = client.get("/recommendations").get_data(as_text=True)
    assert "outside AI service" in page and "Agree and get recommendations" in page
    token = get_csrf(client, "/recommendations")
    started = client.post("/recommendations/runs", data={"csrf_token": token, "use_ai": "1"}, headers=HTMX)
    assert started.status_code == 200 and "Finding books for you" in started.get_data(as_text=True)
    assert taste.profile_of(mina.id).ai_consent_at is not None
    assert get_queue("ai").count == 1
    run = recommendation.latest(mina.id)
    assert run.source == "ai"
    page = client.get("/recommendations").get_data(as_text=True)
    assert "Agree and get recommendations" not in page and "Waiting for a free librarian" in page


def test_without_a_key_the_page_says_the_local_scorer_picks(client, mina):
    take_quiz(client)
    page = client.get("/recommendations").get_data(as_text=True)
    assert "No AI service is set up here" in page and "outside AI service" not in page


def test_a_finished_run_shows_escaped_picks_with_feedback(client, mina, app, fake_openai):
    app.config.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake_openai.base_url)
    take_quiz(client)
    fake_openai.default = _hostile_comments
    token = get_csrf(client, "/recommendations")
    client.post("/recommendations/runs", data={"csrf_token": token, "use_ai": "1"}, headers=HTMX)
    run = recommendation.latest(mina.id)
    recommend(run.id)
    fragment = client.get(f"/recommendations/runs/{run.id}", headers=HTMX).get_data(as_text=True)
    assert "Chosen by AI (gpt-4o-mini)" in fragment
    assert "&lt;img src=x onerror=alert(1)&gt;" in fragment and "<img src=x" not in fragment
    pick = recommendation.picks_of(db.session.get(AiRun, run.id))[0]
    marked = client.post(
        f"/recommendations/{pick.id}/feedback", data={"csrf_token": token, "feedback": "read"}, headers=HTMX
    )
    assert 'aria-pressed="true"' in marked.get_data(as_text=True)
    db.session.expire_all()
    assert pick.feedback == "read"
    bad = client.post(f"/recommendations/{pick.id}/feedback", data={"csrf_token": token, "feedback": "love"})
    assert bad.status_code == 400


def _hostile_comments(body: dict) -> tuple:
    return three_authors(body, "Read it <img src=x onerror=alert(1)> now.")


def test_other_peoples_runs_and_picks_are_404(client, mina, make_user):
    jun = make_user("jun")
    profile = taste.profile_for_update(jun.id)
    profile.answers, profile.completed_at = {"genres": ["소설/시/희곡"]}, utcnow()
    db.session.commit()
    run = recommendation.start(jun, False)
    db.session.commit()
    recommend(run.id)
    pick = recommendation.picks_of(db.session.get(AiRun, run.id))[0]
    token = get_csrf(client, "/recommendations")
    assert client.get(f"/recommendations/runs/{run.id}", headers=HTMX).status_code == 404
    assert (
        client.post(f"/recommendations/{pick.id}/feedback", data={"csrf_token": token, "feedback": "no"}).status_code
        == 404
    )
    assert client.post(f"/recommendations/{pick.id}/feedback", data={"feedback": "no"}).status_code == 400  # no CSRF


def test_starting_before_the_quiz_or_past_the_limit_is_refused_with_a_message(client, mina, app):
    token = get_csrf(client, "/recommendations")
    early = client.post("/recommendations/runs", data={"csrf_token": token, "use_ai": "0"}, headers=HTMX)
    assert early.status_code == 422 and "Take the quiz first" in early.get_data(as_text=True)
    assert early.headers["HX-Retarget"] == "#start-error"
    take_quiz(client)
    app.config["RECOMMENDATION_RUNS_PER_DAY"] = 0
    late = client.post("/recommendations/runs", data={"csrf_token": token, "use_ai": "0"}, headers=HTMX)
    assert late.status_code == 422 and "last run" in late.get_data(as_text=True)


def test_settings_show_the_answers_and_take_back_the_agreement(client, mina):
    take_quiz(client)
    taste.agree_to_ai(mina.id)
    db.session.commit()
    page = client.get("/settings/taste").get_data(as_text=True)
    assert "Warm and comforting" in page and "비 오는 날 읽을 책" in page and "/recommendations/quiz?step=2" in page
    token = get_csrf(client, "/settings/taste")
    assert client.post("/settings/taste/consent/withdraw", data={"csrf_token": token}).status_code == 303
    assert taste.profile_of(mina.id).ai_consent_at is None
    client.post("/settings/taste/clear", data={"csrf_token": token})
    db.session.expire_all()
    assert taste.profile_of(mina.id).answers == {} and taste.profile_of(mina.id).completed_at is None


def test_pages_need_a_login(client):
    assert client.get("/recommendations").status_code == 302
    assert client.get("/recommendations/quiz").status_code == 302


def test_home_shows_the_latest_picks_and_staff_see_ai_runs(client, mina, make_user):
    assert "Take the reading quiz" in client.get("/").get_data(as_text=True)
    take_quiz(client)
    run = recommendation.start(mina, False)
    db.session.commit()
    recommend(run.id)
    titles = [pick.book.title for pick in recommendation.picks_of(db.session.get(AiRun, run.id))]
    home = client.get("/").get_data(as_text=True)
    assert all(title in home for title in titles)
    assert client.get("/ops/runs").status_code == 403
    make_user("ops", is_staff=True)
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    login(client, "ops")
    runs = client.get("/ops/runs").get_data(as_text=True)
    assert f'id="ai-run-{run.id}"' in runs and "offline" in runs and "rec-" in runs
