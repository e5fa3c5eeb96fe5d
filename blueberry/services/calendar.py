"""Meetings as iCalendar (RFC 5545), for phone calendars: one meeting's `.ics`, and each
person's feed of their meetings behind a secret, revocable link.

Text values are escaped (backslash, `;`, `,`, newlines) and every line folded at 75 octets
without splitting a character, so a title can never start a property of its own.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from blueberry import clock
from blueberry.extensions import db
from blueberry.models import Meeting, MeetingParticipant, User

PRODID = "-//Blueberry//Book clubs//EN"
FEED_PAST = timedelta(days=30)


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets (continuations start with a space)."""
    pieces, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not pieces else 74):
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _when(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def event_lines(meeting: Meeting, page_url: str) -> list[str]:
    place = "Online" if meeting.online else meeting.place
    details = "\n\n".join(part for part in (meeting.book.title, meeting.description, page_url) if part)
    return [
        "BEGIN:VEVENT", f"UID:meeting-{meeting.id}@blueberry", f"DTSTAMP:{_when(meeting.updated_at)}",
        f"DTSTART:{_when(meeting.starts_at)}", f"DTEND:{_when(meeting.ends_at)}",
        f"SUMMARY:{escape(meeting.title)}", f"DESCRIPTION:{escape(details)}", f"LOCATION:{escape(place)}",
        f"URL:{page_url}", f"STATUS:{'CANCELLED' if meeting.status == 'cancelled' else 'CONFIRMED'}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", f"DESCRIPTION:{escape(meeting.title)}", "END:VALARM",
        "END:VEVENT",
    ]  # fmt: skip


def document(events: list[list[str]], name: str) -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            f"X-WR-CALNAME:{escape(name)}"]  # fmt: skip
    lines = [*head, *(line for event in events for line in event), "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def feed_meetings(user_id: int) -> list[Meeting]:
    """The meetings in someone's feed: going or waiting, from a month ago on."""
    query = (
        select(Meeting)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(MeetingParticipant.user_id == user_id, MeetingParticipant.state.in_(("going", "waitlisted")))
        .where(Meeting.starts_at > clock.now() - FEED_PAST)
        .order_by(Meeting.starts_at)
        .limit(500)
    )
    return list(db.session.scalars(query))


def new_feed_token(user: User) -> str:
    """A fresh secret for the person's feed link (the old link stops working)."""
    user.calendar_token = secrets.token_urlsafe(32)
    return user.calendar_token


def owner_of(token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(User).where(User.calendar_token == token))
