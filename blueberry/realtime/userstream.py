"""The signed-in user's own stream (SSE `/events`, WS `/ws`): which event types a page shows,
and with which fragment.

Declaring a type here with its fragment template is the only step: the `sse-swap` list of
every page (base.html) and the fragment each event renders to both follow from this table.
Types without a fragment still reach JSON clients.
"""

from blueberry.realtime.events import (
    CONVERSATION_READ,
    CONVERSATION_UPDATED,
    LIVE_DOWN,
    LIVE_UP,
    NOTIFICATION_NEW,
    NOTIFICATION_READ,
    RECOMMENDATION_PROGRESS,
    SESSION_ENDED,
)

FRAGMENTS: dict[str, str] = {}


def declare(type_: str, template: str) -> None:
    """Show events of `type_` in pages with `template` (out-of-band swaps, given `event`)."""
    FRAGMENTS[type_] = template


def swap_list() -> str:
    """The page's `sse-swap` attribute: every declared type."""
    return ",".join(FRAGMENTS)


declare(NOTIFICATION_NEW, "notifications/_event_new.html")
declare(NOTIFICATION_READ, "notifications/_event_read.html")
declare(LIVE_DOWN, "live/_status.html")
declare(LIVE_UP, "live/_status.html")
declare(SESSION_ENDED, "live/_status.html")
declare(CONVERSATION_UPDATED, "chat/_event_conversation.html")
declare(CONVERSATION_READ, "chat/_event_read.html")
declare(RECOMMENDATION_PROGRESS, "recommendation/_event_progress.html")
