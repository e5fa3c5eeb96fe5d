"""Phone numbers: one canonical spelling (E.164) for every way a person may type one."""

import re

import phonenumbers

# Only digits, spaces, dashes, dots, brackets and a leading plus: anything else is not a phone.
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-.()]{7,20}$")


def normalize_phone(raw: str, region: str = "KR") -> str | None:
    """`010-1234-5678` and `+82 10 1234 5678` both give `+821012345678`; None if not a valid number."""
    raw = (raw or "").strip()
    if not _PHONE_CHARS.match(raw):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    """True for text made only of phone characters with enough digits to be a number."""
    return bool(_PHONE_CHARS.match((text or "").strip())) and sum(c.isdigit() for c in text) >= 7
