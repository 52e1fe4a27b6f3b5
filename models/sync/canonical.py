"""The canonical JSON of an operation's body and its hash: one definition for client and hall.

An operation's ``op_id`` is its idempotency key; :func:`body_hash` is what the hall compares when
an id comes again (the same body: the first answer; another body: ``op.mismatch``). It must give
the same digest whoever computes it and from whichever copy of the payload (the model's, the
bytes the hall stored), so it is defined once, here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

# A string as a JSON string literal, non-ASCII kept (the C encoder json.dumps itself uses).
json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]

# Sorted keys, no spaces, Chinese kept: the form the client stores payloads in.
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces, non-ASCII kept, others via ``str``)."""
    return _canonical(value)


def body_hash(kind: str, case_no: str | None, payload: Any) -> str:
    """SHA-256 of what makes an operation itself (not its delivery): kind, case and payload.

    The digest of ``json.dumps([kind, case_no, payload], ensure_ascii=False, sort_keys=True,
    separators=(",", ":"), default=str)``, built in one serialisation: that list's JSON is its
    items' JSON joined by commas inside brackets (a test checks the two agree).
    """
    case = "null" if case_no is None else json_string(case_no)
    body = f"[{json_string(kind)},{case},{_canonical(payload)}]"
    return hashlib.sha256(body.encode()).hexdigest()
