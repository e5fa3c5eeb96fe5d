"""Answers of a model that reads Blueberry's recommendation prompt, for the local
OpenAI-compatible server (`fake_openai.default = three_authors`)."""

import json

from blueberry.services.recommendation_prompt import FENCE_CLOSE, FENCE_OPEN


def candidates_in(body: dict) -> list[dict]:
    """The candidate books a chat completions request was given."""
    data = body["messages"][1]["content"].split(FENCE_OPEN)[1].split(FENCE_CLOSE)[0]
    return json.loads(data)["candidates"]


def three_authors(body: dict, comment: str = "Because it fits you: {title}.") -> tuple:
    """A good librarian: the first three candidates by three different authors."""
    chosen, authors = [], set()
    for book in candidates_in(body):
        if book["authors"][0] not in authors:
            authors.add(book["authors"][0])
            chosen.append({"isbn13": book["isbn13"], "comment": comment.format(title=book["title"])})
    return ("json", {"recommendations": chosen[:3]})
