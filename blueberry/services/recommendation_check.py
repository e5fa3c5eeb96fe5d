"""Checking a model's answer before anything of it is stored or shown.

A pick survives only if it names one of the run's candidates, not already picked, not a third
book by one author, with a comment of sensible length. The answer is usable with 3 to 5
surviving picks (extra ones are cut); otherwise `Rejected` says why, in words the repair
round sends back to the model.
"""

import json
from dataclasses import dataclass

from blueberry.services.recommendation_candidates import Candidate
from blueberry.services.recommendation_prompt import COMMENT_MAX

PICKS_MIN, PICKS_MAX = 3, 5
PER_AUTHOR = 2


class Rejected(Exception):
    """The answer cannot be used; the message is for the model's second try."""


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    comment: str


def check(content: str | None, candidates: list[Candidate]) -> list[Pick]:
    """The usable picks of `content`, or Rejected with what was wrong."""
    items = _items(content)
    by_isbn = {candidate.isbn13: candidate for candidate in candidates}
    picks, problems, per_author = [], [], {}
    for item in items:
        problem = _problem(item, by_isbn, {pick.candidate.isbn13 for pick in picks}, per_author)
        if problem:
            problems.append(problem)
            continue
        candidate = by_isbn[item["isbn13"].strip()]
        per_author[candidate.lead_author] = per_author.get(candidate.lead_author, 0) + 1
        picks.append(Pick(candidate, " ".join(item["comment"].split())))
    if len(picks) < PICKS_MIN:
        found = f"only {len(picks)} usable pick(s)" + (f" ({'; '.join(problems[:5])})" if problems else "")
        raise Rejected(f"Choose {PICKS_MIN} to {PICKS_MAX} books from the candidates: {found}.")
    return picks[:PICKS_MAX]


def _items(content: str | None) -> list:
    try:
        answer = json.loads(content or "")
    except ValueError:
        raise Rejected("The answer was not valid JSON.") from None
    items = answer.get("recommendations") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise Rejected('The answer has no "recommendations" list.')
    return items


def _problem(item, by_isbn: dict, taken: set, per_author: dict) -> str:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("isbn13"), str)
        or not isinstance(item.get("comment"), str)
    ):
        return "a pick without an isbn13 and a comment"
    isbn = item["isbn13"].strip()
    if isbn not in by_isbn:
        return f"{isbn[:20]} is not one of the candidates"
    if isbn in taken:
        return f"{isbn} was chosen twice"
    if per_author.get(by_isbn[isbn].lead_author, 0) >= PER_AUTHOR:
        return f"a third book by {by_isbn[isbn].lead_author}"
    length = len(" ".join(item["comment"].split()))
    if not 10 <= length <= COMMENT_MAX:
        return f"the comment for {isbn} has {length} characters (10 to {COMMENT_MAX})"
    return ""
