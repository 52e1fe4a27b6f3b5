"""Text that is safe to keep and to print: no terminal controls, no hidden direction changes.

A name, a case number or a reason comes from a counter, a batch file or another station, and is
printed later in someone's terminal. Controls in it (ESC starting an ANSI or OSC sequence, NUL,
the C1 range, a bare carriage return) can rewrite the screen, the window title or the clipboard;
bidirectional overrides (U+202E RLO, the U+2066-2069 isolates) make a line read differently
from what it holds. The hall refuses such text at the door (:func:`first_unsafe`), and every CLI
table prints stored text through :func:`printable`, which shows each such character as a
visible escape (``\\x1b``, ``\\u202e``), so older or foreign data cannot act either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from models.problems import DomainError

# Cc (C0, DEL, C1), the bidirectional marks, embeddings, overrides and isolates, and the Unicode
# line and paragraph separators (a line break inside one table cell).
UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


# The longest reason kept for a revocation (and shown on the verification page).
REASON_LIMIT = 200


def clean_reason(raw: str, limit: int = REASON_LIMIT) -> str:
    """A reason staff typed (a revocation's), whitespace runs made single spaces.

    Raises :class:`DomainError` when nothing is left (``cert.reason_empty``), when a control or
    format character is in it (``field.invalid``: it would act in a terminal or hide a change
    of direction) or when it is longer than ``limit`` (``field.too_long``). The one rule for the
    client; the hall can catch the error and answer 422.
    """
    reason = " ".join(raw.split())
    if not reason:
        raise DomainError.of("cert.reason_empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in reason):
        raise DomainError.of(
            "field.invalid", field="reason", value=reason.encode("unicode_escape").decode()[:40]
        )
    if len(reason) > limit:
        raise DomainError.of("field.too_long", field="reason", limit=limit)
    return reason


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``str(value)`` with every unsafe character replaced by its visible escape."""
    return UNSAFE_CHARS.sub(_visible, str(value))


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds an unsafe character (the common, clean case costs one C scan)."""
    return not text.isprintable() and UNSAFE_CHARS.search(text) is not None


def first_unsafe(text: str) -> str | None:
    """The first unsafe character of ``text`` as a visible escape, or None when there is none."""
    if text.isprintable():  # at C speed: every unsafe character is "Other" or "Separator"
        return None
    found = UNSAFE_CHARS.search(text)
    return _visible(found) if found else None


def strings_of(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a decoded JSON value, object keys included.

    Iterative, so any depth is fine; paths look like ``materials[0][1]``.
    """
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                yield name, str(key)
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
