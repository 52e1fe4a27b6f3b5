"""Text made printable: no control or direction character survives, plain text is untouched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.text import UNSAFE_CHARS, first_unsafe, printable, strings_of


@given(st.text())
def test_printable_text_holds_no_unsafe_character(text: str) -> None:
    shown = printable(text)
    assert UNSAFE_CHARS.search(shown) is None
    assert (shown == text) == (first_unsafe(text) is None)


def test_each_unsafe_character_has_a_visible_escape() -> None:
    shown = printable("a\x1b]0;t\x07b\x00\x9b\u202e\u2066\n")
    assert shown == "a\\x1b]0;t\\x07b\\x00\\x9b\\u202e\\u2066\\x0a"
    assert printable("张三 [bold] O'Brien") == "张三 [bold] O'Brien"
    assert first_unsafe("ok\u2069") == "\\u2069"


def test_strings_of_names_every_string_and_key() -> None:
    found = dict(strings_of({"a": ["x", {"k\x1b": 1}], "b": None}, "payload"))
    assert found == {"payload.a": "a", "payload.a[0]": "x", "payload.a[1].k\x1b": "k\x1b", "payload.b": "b"}
