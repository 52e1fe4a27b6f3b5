"""The audit heads this station sends to the hall with every push (the hall as witness).

:class:`AnchorKeeper` gives the push the head to send (:func:`models.anchor.seal_anchor`: the
chain's last ``(seq, hash)`` and the hash at the last head the hall accepted, sealed with the
station's SM2 key — the one that seals certificates, generated here on first use and registered
with the hall by the same sync) and records the hall's answer in ``meta``. A rejected head leaves
an alarm the 同步 screen and ``window-client sync`` show until a later head is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from models.anchor import seal_anchor
from models.problems import Problem
from models.seal import KeyPair
from models.sync import MAX_AUDIT_LINKS, AnchorAnswer, AnchorStatus, AuditAnchor, AuditLink
from offline_cache import Store, sync_repo
from offline_cache import audit as chain
from window_client.services.certificate_keys import StationKeys

ANSWERED_KEY = "audit_anchor_answered"  # "seq:hash" of the last head the hall answered
INFLIGHT_KEY = "audit_anchor_inflight"  # JSON list of heads sent since, without an answer
ALARM_KEY = "audit_alarm"  # the hall's last rejection (JSON), removed when a head is accepted
ANCHOR_ACTOR = "sync"
CHUNK = 500


@dataclass(frozen=True, slots=True)
class AuditAlarm:
    """The hall rejected this station's audit head."""

    code: str
    seq: int
    expected: int | None

    def zh(self) -> str:
        """For the 同步 screen."""
        return Problem("sync.audit_alarm", {"reason": self._inner().zh()}).zh()

    def en(self) -> str:
        """For the CLI."""
        return Problem("sync.audit_alarm", {"reason": self._inner().en()}).en()

    def _inner(self) -> Problem:
        expected = "-" if self.expected is None else self.expected
        return Problem(self.code, {"seq": self.seq, "expected": expected})


def read_alarm(conn: Connection) -> AuditAlarm | None:
    """The hall's last rejection of this station's audit head, if no head was accepted since."""
    raw = sync_repo.get_meta(conn, ALARM_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return AuditAlarm(str(data["code"]), int(data["seq"]), data.get("expected"))
    except (ValueError, KeyError, TypeError):
        return AuditAlarm("audit.rewritten", 0, None)  # unreadable: still an alarm


class AnchorKeeper:
    """The audit heads one station sends to the hall (used by the sync engine).

    ``meta`` keeps the last head the hall accepted (:data:`offline_cache.audit.ANCHOR_SEQ`), the
    heads sent since without an answer (:data:`INFLIGHT_KEY`: the hall may hold them even so) and
    the last head answered (:data:`ANSWERED_KEY`: is an anchor-only push due?).
    """

    def __init__(self, store: Store, station: str, keys: StationKeys) -> None:
        self.store = store
        self.station = station
        self.keys = keys
        self._key: KeyPair | None = None
        self._last: AuditAnchor | None = None

    def _signing_key(self) -> KeyPair:
        row = self.keys.active_key_id()
        if row is None or self._key is None or self._key.key_id != row:
            # First use (generated and audited: before the head is read), or a rotated key.
            with self.store.transaction(ANCHOR_ACTOR) as unit:
                self._key = self.keys.anchor_key(unit)
        return self._key

    def anchor(self) -> AuditAnchor:
        """The chain's head, sealed (signed again only when the head or its links moved)."""
        key = self._signing_key()
        with self.store.reading() as conn:
            seq, digest = chain.read_head(conn)
            earlier = [chain.acknowledged_seq(conn), *_inflight(conn)]
            wanted = sorted({s for s in earlier if 0 < s <= seq})[-MAX_AUDIT_LINKS:]
            hashes = local_hashes(conn, wanted)
        links = [AuditLink(seq=s, hash=hashes[s]) for s in wanted if s in hashes]
        last = self._last
        if last is None or (last.seq, last.hash, last.links, last.key_id) != (seq, digest, links, key.key_id):
            self._last = last = seal_anchor(key, seq, digest, links)
        return last

    def sending(self, anchor: AuditAnchor) -> None:
        """Note a head about to go: if its answer is lost, the next head links to it too."""
        with self.store.reading() as conn:
            inflight = _inflight(conn)
        if anchor.seq in inflight:
            return
        with self.store.transaction(ANCHOR_ACTOR) as unit:
            kept = [*inflight, anchor.seq][-(MAX_AUDIT_LINKS - 1) :]
            sync_repo.set_meta(unit, INFLIGHT_KEY, json.dumps(kept))

    def pending(self) -> bool:
        """Whether the chain moved since the last head the hall answered (a head is due)."""
        with self.store.reading() as conn:
            seq, digest = chain.read_head(conn)
            return sync_repo.get_meta(conn, ANSWERED_KEY) != f"{seq}:{digest}"

    def answered(self, anchor: AuditAnchor, answer: AnchorAnswer | None) -> None:
        """Record the hall's answer (None: a hall that does not keep heads)."""
        with self.store.transaction(ANCHOR_ACTOR) as unit:
            sync_repo.set_meta(unit, ANSWERED_KEY, f"{anchor.seq}:{anchor.hash}")
            unit.execute("DELETE FROM meta WHERE key = ?", (INFLIGHT_KEY,))
            if answer is None:
                return
            if answer.status is AnchorStatus.ACCEPTED:
                sync_repo.set_meta(unit, chain.ANCHOR_SEQ, str(anchor.seq))
                unit.execute("DELETE FROM meta WHERE key = ?", (ALARM_KEY,))
            else:
                expected = answer.expected_seq if answer.expected_seq is not None else answer.anchored_seq
                alarm = {"code": answer.code or "audit.rewritten", "seq": anchor.seq, "expected": expected}
                sync_repo.set_meta(unit, ALARM_KEY, json.dumps(alarm))


def _inflight(conn: Connection) -> list[int]:
    try:
        seqs = json.loads(sync_repo.get_meta(conn, INFLIGHT_KEY) or "[]")
        return [int(s) for s in seqs]
    except (ValueError, TypeError):
        return []


def local_hashes(conn: Connection, seqs: Iterable[int]) -> dict[int, str]:
    """The stored hashes of the audit events ``seqs`` (those the store has)."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        marks = ", ".join("?" * len(part))
        rows = conn.exec_driver_sql(f"SELECT seq, hash FROM audit_events WHERE seq IN ({marks})", tuple(part))
        found.update((int(r[0]), str(r[1])) for r in rows)
    return found
