"""The hash of one audit event, shared by the station's chain and whoever checks a slice of it.

``hash = SHA-256(seq, at, actor, action, subject, detail, prev_hash)`` (fields joined by U+001F).
The station's chain (:mod:`offline_cache.audit`) writes it; an archive package carries a case's
events with their ``prev_hash`` and ``hash`` so that :mod:`models.archive` can recompute them
without the store.
"""

from __future__ import annotations

import hashlib

GENESIS = "0" * 64


def event_hash(seq: int, at: str, actor: str, action: str, subject: str, detail: str, prev: str) -> str:
    """The chain hash of one event."""
    material = "\x1f".join((str(seq), at, actor, action, subject, detail, prev))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
