"""Pushed text must be plain: no terminal controls, no hidden text-direction changes.

A case number, an item code or a name is kept by the hall and printed later in other people's
terminals (``hall-server cases list``, the counters' CLIs after a pull). An operation carrying
a control character (ESC, NUL, C1) or a bidirectional override anywhere in its text is refused
(``op.unsafe_text``) before anything of it takes effect; :mod:`models.text` says which
characters and why.
"""

from __future__ import annotations

import re
from typing import Any

from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from models.text import first_unsafe, has_unsafe, printable, strings_of

# What an unsafe character can look like in the payload's JSON text: a short escape (\n, \t...)
# or a \u escape of one (models.text.has_unsafe finds the character itself). Only a payload
# showing one is walked string by string, so a clean payload costs two scans of its text.
_ESCAPED = re.compile(
    r"\\(?:[bfnrt]|u(?:00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|061[cC]|200[eEfF]|202[89a-eA-E]|206[6-9]))"
)
_FIELD_CHARS = 60  # a field path shown in a reason is cut to this length


def check_text(op: Incoming, row: dict[str, Any]) -> None:
    """Raise :class:`Refusal` ``op.unsafe_text`` when any text of ``op`` holds an unsafe character.

    The refused operation is still kept (its answer must repeat): its verbatim ``created_at`` is
    then kept in printable form in ``row`` (PostgreSQL cannot store a NUL in text).
    """
    for name, value in (("case_no", op.case_no), ("created_at", op.created_at)):
        if value is not None and (char := first_unsafe(value)) is not None:
            row["created_at"] = printable(op.created_at)
            raise Refusal("op.unsafe_text", field=name, char=char)
    text = op.payload_json
    if not has_unsafe(text) and ("\\" not in text or _ESCAPED.search(text) is None):
        return
    for path, text in strings_of(op.payload, "payload"):
        if (char := first_unsafe(text)) is not None:
            raise Refusal("op.unsafe_text", field=printable(path)[:_FIELD_CHARS], char=char)
