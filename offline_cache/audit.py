"""The audit hash chain: every event commits to the one before it.

``hash = SHA-256(seq, at, actor, action, subject, detail, prev_hash)``; the head (last seq and
hash) is also kept in ``meta`` in the same transaction, so deleting the newest events is
detected as well as changing or deleting any older one.

The chain is unkeyed: whoever holds the store file can edit an event and recompute every hash
after it, or delete the whole trail with its head. What the station itself can still notice is
checked here and in :mod:`offline_cache.audit_cases` (gaps, a missing head, a chain shorter than
the hall acknowledged, cases whose state does not follow from their events). The rest needs a
witness outside the station: every push carries the head, sealed, and the hall keeps it
(:mod:`models.anchor`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from models.audit_hash import GENESIS as GENESIS  # re-exported: the chain's readers use them here
from models.audit_hash import event_hash as event_hash

HEAD_SEQ = "audit_head_seq"
HEAD_HASH = "audit_head_hash"
ANCHOR_SEQ = "audit_anchor_seq"  # the highest head the hall accepted (set after a push's answer)


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """The first place where the chain does not hold."""

    seq: int
    kind: str  # "altered", "missing", "truncated", "head_missing", or a kind of a later check
    message: str


def _meta(conn: Connection, *keys: str) -> dict[str, str]:
    marks = ", ".join("?" * len(keys))
    return dict(conn.exec_driver_sql(f"SELECT key, value FROM meta WHERE key IN ({marks})", keys).all())


def read_head(conn: Connection) -> tuple[int, str]:
    """The last sequence number and hash recorded in meta."""
    rows = _meta(conn, HEAD_SEQ, HEAD_HASH)
    return int(rows.get(HEAD_SEQ, 0)), rows.get(HEAD_HASH, GENESIS)


def hash_at(conn: Connection, seq: int) -> str | None:
    """The stored hash of event ``seq`` (GENESIS for 0), or None when there is no such event."""
    if seq == 0:
        return GENESIS
    row = conn.exec_driver_sql("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).first()
    return None if row is None else str(row[0])


def acknowledged_seq(conn: Connection) -> int:
    """The highest head the hall accepted from this store (0 when none is recorded)."""
    try:
        return int(_meta(conn, ANCHOR_SEQ).get(ANCHOR_SEQ, 0))
    except ValueError:
        return 0


def append_events(conn: Connection, events: Iterable[tuple[str, str, str, str, str]]) -> int:
    """Append (at, actor, action, subject, detail) events; returns how many were written.

    Must run inside a write transaction (BEGIN IMMEDIATE), which serialises chain heads.
    """
    seq, prev = read_head(conn)
    rows = []
    for at, actor, action, subject, detail in events:
        seq += 1
        digest = event_hash(seq, at, actor, action, subject, detail, prev)
        rows.append((seq, at, actor, action, subject, detail, prev, digest))
        prev = digest
    if not rows:
        return 0
    conn.exec_driver_sql(
        "INSERT INTO audit_events (seq, at, actor, action, subject, detail, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.exec_driver_sql(
        "INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (HEAD_SEQ, str(seq), HEAD_HASH, prev),
    )
    return len(rows)


def verify_chain(conn: Connection) -> tuple[int, AuditProblem | None]:
    """Walk the chain; returns the number of events checked and the first problem, if any."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    result = conn.exec_driver_sql(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_events ORDER BY seq"
    )
    for seq, at, actor, action, subject, detail, prev_hash, digest in result:
        if seq != expected_seq:
            return checked, AuditProblem(
                expected_seq, "missing", f"event {expected_seq} is missing (next present is {seq})"
            )
        if prev_hash != prev or event_hash(seq, at, actor, action, subject, detail, prev) != digest:
            return checked, AuditProblem(seq, "altered", f"event {seq} ({action} {subject}) was altered")
        prev = digest
        expected_seq += 1
        checked += 1
    head = _meta(conn, HEAD_SEQ, HEAD_HASH)
    if checked and not head:
        return checked, AuditProblem(
            checked, "head_missing", f"the chain head record is missing while {checked} events exist"
        )
    head_seq, head_hash = int(head.get(HEAD_SEQ, 0)), head.get(HEAD_HASH, GENESIS)
    if head_seq != checked or head_hash != prev:
        if head_seq > checked:
            return checked, AuditProblem(
                checked + 1,
                "truncated",
                f"events {checked + 1}..{head_seq} are missing (deleted from the end)",
            )
        return checked, AuditProblem(checked, "altered", "the recorded chain head does not match the events")
    acknowledged = acknowledged_seq(conn)
    if acknowledged > checked:
        return checked, AuditProblem(
            checked + 1,
            "truncated",
            f"the hall acknowledged events up to {acknowledged}, but the chain ends at {checked}",
        )
    return checked, None
