import pytest

from blueberry.services.phone import looks_like_phone, normalize_phone


@pytest.mark.parametrize(
    "raw", ["010-1234-5678", "+82 10 1234 5678", "01012345678", "(010) 1234-5678", "+821012345678"]
)
def test_korean_spellings_share_one_e164(raw):
    assert normalize_phone(raw) == "+821012345678"


@pytest.mark.parametrize("raw", ["", "12345", "010-12", "abc-defg-hijk", "+82 10 1234 5678 9999", "mina"])
def test_invalid_numbers_are_refused(raw):
    assert normalize_phone(raw) is None


def test_foreign_number_keeps_its_country():
    assert normalize_phone("+1 650-253-0000") == "+16502530000"


@pytest.mark.parametrize(("text", "expected"), [("010-1234-5678", True), ("+82 10", False), ("mina010", False)])
def test_looks_like_phone(text, expected):
    assert looks_like_phone(text) is expected
