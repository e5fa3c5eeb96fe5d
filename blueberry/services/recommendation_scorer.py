"""The offline recommender: scores each candidate against the quiz answers with the catalog's
own metadata (category, translation, rating, rank, sales, age, the favourites' authors and
categories, and words of the theme and mood in the description), and explains each pick with
template sentences. It needs no outside service, so recommendations work without an API key;
the page labels them as the local scorer's.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from blueberry import clock
from blueberry.services.recommendation_candidates import Candidate

FICTION = "소설/시/희곡"
QUICK = ("에세이", "시", "자기계발")
DEEP = ("인문학", "과학", "역사", "사회과학")
# Words that suggest a theme or a mood in a category path or a description (Korean catalog).
THEME_WORDS = {
    "love": ("사랑", "연애", "연인", "결혼"),
    "family": ("가족", "엄마", "어머니", "아버지", "딸", "아들"),
    "society": ("사회", "불평등", "노동", "정의", "정치", "차별"),
    "history": ("역사", "전쟁", "조선", "근대", "세계사", "한국사"),
    "science": ("과학", "우주", "진화", "생명", "자연", "뇌"),
    "growth": ("성장", "습관", "자기", "마음", "인생", "성공"),
    "mystery": ("추리", "미스터리", "살인", "범죄", "사건", "스릴러"),
    "fantasy": ("판타지", "환상", "SF", "미래", "마법", "과학소설"),
    "money": ("경제", "투자", "돈", "부자", "경영", "재테크"),
    "art": ("예술", "미술", "음악", "영화", "문화"),
}
MOOD_WORDS = {
    "warm": ("따뜻", "위로", "힐링", "다정", "행복", "에세이"),
    "moving": ("상처", "슬픔", "눈물", "상실", "죽음", "고통"),
    "thoughtful": ("철학", "질문", "생각", "사유", "인문", "의미"),
    "thrilling": ("추리", "긴장", "미스터리", "범죄", "살인", "스릴러"),
    "fun": ("유쾌", "웃음", "모험", "판타지", "코믹", "유머"),
}
NEW_YEARS, CLASSIC_YEARS = 5, 20
PICKS = 5
PER_AUTHOR = 2


@dataclass
class Scored:
    candidate: Candidate
    score: float = 0.0
    reasons: list = field(default_factory=list)  # (weight, lazy sentence), best first when told

    def add(self, weight: float, reason=None) -> None:
        self.score += weight
        if reason is not None:
            self.reasons.append((weight, reason))


def recommend(
    candidates: list[Candidate],
    answers: dict,
    liked: list[Candidate],
    disliked: list[Candidate] = (),
    picks: int = PICKS,
) -> list:
    """The best `picks` candidates for these answers, at most two by one author, each with its
    comment: a list of (candidate, comment)."""
    scored = [score(c, answers, liked, disliked) for c in candidates]
    scored.sort(key=lambda s: (-s.score, s.candidate.book_id))
    chosen, per_author = [], {}
    for item in scored:
        author = item.candidate.lead_author
        if per_author.get(author, 0) >= PER_AUTHOR:
            continue
        per_author[author] = per_author.get(author, 0) + 1
        chosen.append(item)
        if len(chosen) == picks:
            break
    common = (
        set.intersection(*({str(text) for _, text in item.reasons} for item in chosen)) if len(chosen) > 1 else set()
    )
    return [(item.candidate, comment(item, common)) for item in chosen]


def score(candidate: Candidate, answers: dict, liked: list[Candidate], disliked: list[Candidate] = ()) -> Scored:
    """How well one book fits the answers, with the reasons that earned its points."""
    scored = Scored(candidate)
    if any(candidate.lead_author and candidate.lead_author == other.lead_author for other in disliked):
        scored.add(-3)  # "not for me": not that author again soon
    _genre(scored, answers)
    _form_and_origin(scored, answers)
    _words(scored, answers)
    _pace_and_era(scored, answers)
    _standing(scored, answers)
    _likeness(scored, liked)
    return scored


def _genre(scored: Scored, answers: dict) -> None:
    if scored.candidate.category in answers.get("genres", []):
        scored.add(3, _l("It is in %(genre)s, a genre you chose.", genre=scored.candidate.category))


def _form_and_origin(scored: Scored, answers: dict) -> None:
    c = scored.candidate
    fiction = c.category == FICTION
    if answers.get("fiction") == "fiction" and fiction:
        scored.add(2, _l("A story, as you asked."))
    elif answers.get("fiction") == "nonfiction" and not fiction:
        scored.add(2, _l("Real life and ideas, as you asked."))
    elif answers.get("fiction") in ("fiction", "nonfiction"):
        scored.add(-2)
    if answers.get("origin") == "translated" and c.translated:
        scored.add(1.5, _l("A translated book, from beyond Korea."))
    elif answers.get("origin") == "korean" and not c.translated:
        scored.add(1.5, _l("Written by a Korean author."))
    elif answers.get("origin") in ("translated", "korean"):
        scored.add(-1.5)


def _words(scored: Scored, answers: dict) -> None:
    text = f"{scored.candidate.subcategory} {scored.candidate.description}"
    for theme in answers.get("themes", []):
        if any(word in text for word in THEME_WORDS.get(theme, ())):
            scored.add(2, _l("It touches on a theme you like."))
            break
    if any(word in text for word in MOOD_WORDS.get(answers.get("mood", ""), ())):
        scored.add(1.5, _l("Its mood matches the one you are in for."))


def _pace_and_era(scored: Scored, answers: dict) -> None:
    c = scored.candidate
    if answers.get("pace") == "quick" and c.category in QUICK:
        scored.add(1, _l("Easy to read in a sitting or two."))
    elif answers.get("pace") == "deep" and c.category in DEEP:
        scored.add(1, _l("One to read slowly and think about."))
    age = clock.now().year - c.published_on.year if c.published_on else None
    if age is not None and answers.get("era") == "new" and age <= NEW_YEARS:
        scored.add(1, _l("Published in the last few years."))
    elif age is not None and answers.get("era") == "classic" and age >= CLASSIC_YEARS:
        scored.add(1, _l("Readers have kept it for over twenty years."))


def _standing(scored: Scored, answers: dict) -> None:
    c = scored.candidate
    if c.rating is not None:
        scored.add(
            c.rating / 10, _l("Readers rate it %(rating)s out of 10.", rating=c.rating) if c.rating >= 9 else None
        )
    popular = c.rank is not None and c.rank <= 20
    if answers.get("popularity") == "popular" and popular:
        scored.add(1, _l("It is among this week's bestsellers."))
    elif answers.get("popularity") == "hidden" and not popular:
        scored.add(1, _l("Less known, and worth finding."))


def _likeness(scored: Scored, liked: list[Candidate]) -> None:
    c = scored.candidate
    if any(c.lead_author and c.lead_author == other.lead_author for other in liked):
        scored.add(2.5, _l("By %(author)s, whose book you loved.", author=c.lead_author))
    elif any(c.subcategory and c.subcategory == other.subcategory for other in liked):
        scored.add(1.5, _l("Like a book you loved, it is %(kind)s.", kind=c.subcategory))


def comment(scored: Scored, common: set[str] = frozenset()) -> str:
    """One or two sentences in the reader's language: the two strongest reasons, those that set
    this book apart from the other picks first (five times "a genre you chose" says nothing)."""
    reasons = sorted(scored.reasons, key=lambda reason: (str(reason[1]) in common, -reason[0]))[:2]
    if not reasons:
        return str(_l("A well-loved book from our catalog."))
    return " ".join(str(text) for _, text in reasons)
