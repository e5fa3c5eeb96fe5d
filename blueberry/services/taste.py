"""The reading quiz and the taste profile it builds: ten questions, answered one at a time and
kept as they go, which recommendation runs read (services/recommendation.py).

Answers are stored by question key (never `form` or `action`, which as input names would shadow
the form element's own properties in the browser): a list of option values (or ISBN-13s for favourite books)
for the questions with several answers, one value for the others, the reader's own words for
`notes`. A value is one of the question's options or it is refused: what reaches the prompt
and the scorer is only ever a known option, a catalog book, or the fenced free text.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blueberry.extensions import db
from blueberry.models import Book, TasteProfile
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services.errors import FieldError

NOTES_MAX = 500
FAVOURITES_MAX = 3


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # "one" (choose one), "many" (up to `most`), "books" (catalog search), "text"
    title: object  # lazy strings: rendered in the reader's language
    hint: object = ""
    options: tuple = ()  # (value, label); genres come from the catalog instead
    most: int = 1
    required: bool = True


QUESTIONS = (
    Question("genres", "many", _l("Which kinds of books would you like to read?"), _l("Choose up to 3."), most=3),
    Question("mood", "one", _l("What mood are you in for?"), options=(
        ("warm", _l("Warm and comforting")), ("moving", _l("Moving, even if it hurts")),
        ("thoughtful", _l("Thought-provoking")), ("thrilling", _l("Tense and gripping")),
        ("fun", _l("Light and fun")),
    )),
    Question("fiction", "one", _l("Stories or real life?"), options=(
        ("fiction", _l("Fiction: novels, stories, poems")), ("nonfiction", _l("Non-fiction: ideas and facts")),
        ("both", _l("Both")),
    )),
    Question("origin", "one", _l("Korean writers or translated books?"), options=(
        ("korean", _l("Korean writers")), ("translated", _l("Translated from other languages")),
        ("either", _l("Either")),
    )),
    Question("pace", "one", _l("How do you like to read?"), options=(
        ("quick", _l("Quick: something I can finish in a sitting or two")),
        ("steady", _l("Steady: a chapter a day")), ("deep", _l("Slow and deep: I like to stop and think")),
    )),
    Question("themes", "many", _l("Which themes draw you in?"), _l("Choose up to 3."), options=(
        ("love", _l("Love and relationships")), ("family", _l("Family")), ("society", _l("Society and justice")),
        ("history", _l("History")), ("science", _l("Science and nature")), ("growth", _l("Growing as a person")),
        ("mystery", _l("Crime and mystery")), ("fantasy", _l("Fantasy and the future")),
        ("money", _l("Work and money")), ("art", _l("Art and culture")),
    ), most=3),
    Question("era", "one", _l("New books or ones that have lasted?"), options=(
        ("new", _l("New: the last few years")), ("classic", _l("Ones that have lasted")), ("any", _l("Either")),
    )),
    Question("popularity", "one", _l("What everyone is reading, or hidden gems?"), options=(
        ("popular", _l("What everyone is reading")), ("hidden", _l("Hidden gems")), ("any", _l("Either")),
    )),
    Question("favourites", "books", _l("Books you loved"), _l("Find up to 3 in our catalog, or skip."),
             most=FAVOURITES_MAX, required=False),
    Question("notes", "text", _l("Anything else a librarian should know?"),
             _l("In your own words, up to 500 characters. Optional."), required=False),
)  # fmt: skip
STEPS = len(QUESTIONS)
BY_KEY = {question.key: question for question in QUESTIONS}


def question_at(step: int) -> Question:
    return QUESTIONS[min(max(step, 1), STEPS) - 1]


def options_of(question: Question) -> list[tuple[str, object]]:
    """A question's choices; the genres are the catalog's categories."""
    if question.key == "genres":
        return [(name, name) for name, _ in catalog.categories()]
    return list(question.options)


def profile_of(user_id: int) -> TasteProfile | None:
    return db.session.get(TasteProfile, user_id)


def profile_for_update(user_id: int) -> TasteProfile:
    """The reader's profile, made empty on their first answer."""
    profile = profile_of(user_id)
    if profile is None:
        profile = TasteProfile(user_id=user_id, answers={}, step=1)
        db.session.add(profile)
    return profile


def save_answer(user_id: int, step: int, form: MultiDict) -> TasteProfile:
    """Keep the answer to question `step` and move on; FieldError when it is not a valid one.
    The last answer completes the profile."""
    question = question_at(step)
    profile = profile_for_update(user_id)
    if question.kind != "books":  # favourites are added and removed one by one
        _set(profile, question.key, parse(question, form))
    elif question.required and not profile.answers.get(question.key):
        raise FieldError(question.key, _l("Choose at least one."))
    profile.step = min(step + 1, STEPS)
    if step == STEPS:
        profile.completed_at = utcnow()
    profile.updated_at = utcnow()
    db.session.flush()
    return profile


def parse(question: Question, form: MultiDict) -> str | list[str]:
    """The valid answer in `form`, or FieldError saying what is wrong with it."""
    if question.kind == "text":
        text = " ".join(form.get(question.key, "").split())
        if len(text) > NOTES_MAX:
            raise FieldError(question.key, _l("Keep it within %(n)d characters.", n=NOTES_MAX))
        return text
    allowed = {value for value, _ in options_of(question)}
    chosen = list(dict.fromkeys(form.getlist(question.key)))
    if any(value not in allowed for value in chosen):
        raise FieldError(question.key, _l("Choose from the list."))
    if question.required and not chosen:
        raise FieldError(question.key, _l("Choose one.") if question.kind == "one" else _l("Choose at least one."))
    if question.kind == "one":
        return chosen[0] if chosen else ""
    if len(chosen) > question.most:
        raise FieldError(question.key, _l("Choose up to %(n)d.", n=question.most))
    return chosen


def _set(profile: TasteProfile, key: str, value) -> None:
    # A new dict: JSON columns notice reassignment, not changes inside.
    profile.answers = {**(profile.answers or {}), key: value}


def favourites(profile: TasteProfile | None) -> list[Book]:
    return books_of((profile.answers or {}).get("favourites", []) if profile else [])


def books_of(isbns: list[str]) -> list[Book]:
    """The catalog's books of these ISBN-13s, in that order."""
    if not isbns:
        return []
    books = {book.isbn13: book for book in db.session.scalars(select(Book).where(Book.isbn13.in_(isbns)))}
    return [books[isbn] for isbn in isbns if isbn in books]


def add_favourite(user_id: int, isbn13: str) -> TasteProfile:
    """Add a catalog book to the reader's favourites; FieldError past the limit."""
    profile = profile_for_update(user_id)
    current = list((profile.answers or {}).get("favourites", []))
    if catalog.get(isbn13) is None:
        raise FieldError("favourites", _l("That book is not in our catalog."))
    if isbn13 not in current:
        if len(current) >= FAVOURITES_MAX:
            raise FieldError("favourites", _l("Choose up to %(n)d.", n=FAVOURITES_MAX))
        _set(profile, "favourites", [*current, isbn13])
    db.session.flush()
    return profile


def remove_favourite(user_id: int, isbn13: str) -> TasteProfile:
    profile = profile_for_update(user_id)
    current = (profile.answers or {}).get("favourites", [])
    _set(profile, "favourites", [isbn for isbn in current if isbn != isbn13])
    db.session.flush()
    return profile


def describe(profile: TasteProfile | None) -> list[tuple[int, Question, str]]:
    """Each question with the reader's answer in words (their language), for settings."""
    answers = (profile.answers or {}) if profile else {}
    rows = []
    for step, question in enumerate(QUESTIONS, start=1):
        rows.append((step, question, answer_text(question, answers.get(question.key))))
    return rows


def answer_text(question: Question, value) -> str:
    if not value:
        return ""
    if question.kind == "text":
        return value
    if question.kind == "books":
        return ", ".join(book.title for book in books_of(value))
    labels = dict(options_of(question))
    values = value if isinstance(value, list) else [value]
    return ", ".join(str(labels.get(item, item)) for item in values)


def agree_to_ai(user_id: int) -> None:
    profile = profile_for_update(user_id)
    profile.ai_consent_at = profile.ai_consent_at or utcnow()
    db.session.flush()


def withdraw_ai_consent(user_id: int) -> None:
    profile = profile_of(user_id)
    if profile is not None:
        profile.ai_consent_at = None
        db.session.flush()


def clear(user_id: int) -> None:
    """Forget the reader's answers (their past recommendations stay theirs)."""
    profile = profile_of(user_id)
    if profile is not None:
        profile.answers, profile.step, profile.completed_at = {}, 1, None
        db.session.flush()
