"""The input rules every path shares: no NUL, integers that fit SQL's INTEGER."""

import pytest

from blueberry.inputs import SQL_INT_MAX, has_nul, json_int, text_int
from blueberry.realtime.events import Cursor


@pytest.mark.parametrize(
    ("raw", "value"),
    [("0", 0), ("42", 42), (" 7 ", 7), (str(SQL_INT_MAX), SQL_INT_MAX), (str(SQL_INT_MAX + 1), None),
     ("99999999999999999999", None), ("-1", None), ("+1", None), ("1e3", None), ("²", None), ("٣", None),
     ("", None), (None, None), ("0x10", None)],
)  # fmt: skip
def test_text_int_takes_ascii_digits_in_range_only(raw, value):
    assert text_int(raw) == value


@pytest.mark.parametrize(("raw", "value"), [(5, 5), (0, 0), (-1, None), (2**63, None), (True, None), (1.0, None)])
def test_json_int_takes_integers_in_range_only(raw, value):
    assert json_int(raw) == value


@pytest.mark.parametrize(
    ("value", "found"),
    [("a\x00b", True), ("\x00", True), ("ab", False), ({"k": ["x", {"y": "\x00"}]}, True), ({"\x00": 1}, True),
     ([1, None, 2.5], False)],
)  # fmt: skip
def test_has_nul_looks_inside_json_values(value, found):
    assert has_nul(value) is found


def test_a_cursor_out_of_range_reads_as_empty():
    assert Cursor.parse("1700000000000-3~12") == Cursor("1700000000000-3", 12)
    assert Cursor.parse("1-0~99999999999999999999") == Cursor("1-0", 0)
    assert Cursor.parse(f"{2**64}-0~5") == Cursor("", 5)
    assert Cursor.parse("1-²~³") == Cursor("", 0)
