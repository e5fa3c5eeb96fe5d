"""Every code a websocket's `error` event may carry, with the message that goes with it.

The first four come from the connection loop, the same on every socket; the others belong to
one socket's frames (docs/realtime.md lists them per socket). A frame field that fails its
check answers `bad_<field>` (`field_error`). A client acts on the code; the message is for
people reading logs or building a client, in English.
"""

BAD_FRAME = "bad_frame"
RATE_LIMITED = "rate_limited"
UNKNOWN_TYPE = "unknown_type"
INTERNAL_ERROR = "internal_error"
# conversations
NOT_STORED = "not_stored"
BAD_UP_TO_SEQ = "bad_up_to_seq"
BLOCKED = "blocked"
MEETING_NOT_STARTED = "meeting_not_started"
MEETING_ENDED = "meeting_ended"
NOT_A_MEMBER = "not_a_member"
MEETING_NOT_OPEN = "meeting_not_open"
# matching
PROFILE_INCOMPLETE = "profile_incomplete"
BAD_LOCATION = "bad_location"
BAD_MATCH_ID = "bad_match_id"
NOT_FOUND = "not_found"
NOT_PENDING = "not_pending"
EXPIRED = "expired"
# voice rooms
BAD_SIGNAL = "bad_signal"
NO_MIC = "no_mic"

MESSAGES = {
    BAD_FRAME: "Frames must be JSON objects with a string `type` and no NUL.",
    RATE_LIMITED: "Too many messages; slow down.",
    UNKNOWN_TYPE: "Unknown frame type.",
    INTERNAL_ERROR: "That could not be done. Try again.",
    NOT_STORED: "Your message was not sent. Try again.",
    BAD_UP_TO_SEQ: "up_to_seq must be a sequence number.",
    BLOCKED: "You cannot send messages in this conversation: one of you blocked the other.",
    MEETING_NOT_STARTED: "The meeting has not started: its room takes messages from its start.",
    MEETING_ENDED: "The meeting has ended (or was cancelled): its room is read-only.",
    MEETING_NOT_OPEN: "The meeting's room opens 10 minutes before its start (or the meeting was cancelled).",
    NOT_A_MEMBER: "You left this conversation: you cannot send to it.",
    PROFILE_INCOMPLETE: "Add your age and gender in your profile first.",
    BAD_LOCATION: "lat and lon must be numbers within range.",
    BAD_MATCH_ID: "match_id must be the id of your offer.",
    NOT_FOUND: "That offer is not yours, or it has ended.",
    NOT_PENDING: "That offer has already been answered.",
    EXPIRED: "That offer has expired.",
    BAD_SIGNAL: "A signal carries an SDP `description` or an ICE `candidate`.",
    NO_MIC: "This connection said its microphone failed (mic=off): it cannot signal. Reconnect with one.",
}


def field_error(field: str) -> str:
    """The code of a frame field that failed its check (`bad_content`, `bad_client_id`, …)."""
    return f"bad_{field}"


def message_of(code: str) -> str:
    return MESSAGES.get(code, "That could not be done.")
