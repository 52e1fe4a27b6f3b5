"""The hall as witness of each station's audit trail: every audit head a station sends, kept.

A station sends its chain head with every push (:class:`models.sync.AuditAnchor`, sealed with
its SM2 key: :mod:`models.anchor`). The hall checks the seal before it takes the write lock
(:meth:`hall_server.services.hall.Hall.push_json`), then, against the heads it accepted from that
station since the last reset:

- a head whose hash differs from an accepted head at the same sequence, or one of whose links
  (the station's hashes at earlier heads it sent) differs from that head: ``audit.rewritten``;
- a head below the highest accepted one: ``audit.rewound`` (events deleted, a store restored
  from a backup, or reinstalled);
- no link to a sequence the hall accepted, once the hall holds a head of that station:
  ``audit.unlinked`` (the station lost what ties its chain to the one the hall saw);
- a seal that does not hold: ``audit.bad_seal``.

Each of those is kept as a ``rejected`` row (the alarm the back office lists with
``hall-server stations audit``) and answered to the station; an accepted head is kept once.
Pushed operations are applied either way: the alarm is about the trail, not the cases.

After investigating (a reinstalled station, say) the back office starts a new baseline with
``hall-server stations audit-reset``: a ``reset`` row, after which only newer heads count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, func, select

from hall_server import storage
from hall_server.storage import ANCHORS, KEYS
from models.problems import Problem
from models.sync import AnchorAnswer, AnchorRecord, AnchorStatus, AuditAnchor, AuditTrail

ACCEPTED, REJECTED, RESET = "accepted", "rejected", "reset"


def _baseline_start(conn: Connection, station: str) -> int:
    """The id of the station's last reset (0: none), after which accepted heads count."""
    query = select(func.max(ANCHORS.c.id)).where(ANCHORS.c.station == station, ANCHORS.c.status == RESET)
    return int(conn.execute(query).scalar() or 0)


def _accepted(
    conn: Connection, station: str, seqs: list[int]
) -> tuple[dict[int, str], tuple[int, str] | None]:
    """(hash by seq among ``seqs``, the highest (seq, hash)) of the accepted heads since the reset."""
    since = _baseline_start(conn, station)
    current = and_(ANCHORS.c.station == station, ANCHORS.c.status == ACCEPTED, ANCHORS.c.id > since)
    top = conn.execute(
        select(ANCHORS.c.seq, ANCHORS.c.hash).where(current).order_by(ANCHORS.c.seq.desc()).limit(1)
    ).first()
    wanted = sorted(set(seqs))
    rows = conn.execute(select(ANCHORS.c.seq, ANCHORS.c.hash).where(current, ANCHORS.c.seq.in_(wanted)))
    return {int(r[0]): str(r[1]) for r in rows}, None if top is None else (int(top[0]), str(top[1]))


def judge(
    anchor: AuditAnchor, known: dict[int, str], top: tuple[int, str] | None
) -> tuple[str | None, int | None, str | None]:
    """(problem code or None, the sequence and hash the hall holds that disagree).

    ``known``: the accepted hashes at the anchor's and its links' sequences; ``top``: the highest
    accepted head (None when the hall holds none since the last reset).
    """
    if top is None:
        return None, None, None  # the first head (or the first after a reset) is the baseline
    if anchor.seq in known and known[anchor.seq] != anchor.hash:
        return "audit.rewritten", anchor.seq, known[anchor.seq]
    tied = [link for link in anchor.links if link.seq in known]
    for link in tied:
        if known[link.seq] != link.hash:
            return "audit.rewritten", link.seq, known[link.seq]
    if anchor.seq < top[0]:
        return "audit.rewound", top[0], top[1]
    if anchor.seq in known:
        return None, None, None  # the same head again (a repeated push)
    if not tied:
        return "audit.unlinked", top[0], top[1]
    return None, None, None


def record(
    conn: Connection, station: str, staff_no: str, anchor: AuditAnchor, sealed: bool, now: dt.datetime
) -> AnchorAnswer:
    """Judge and keep ``anchor`` inside the push's write transaction; the answer to the station."""
    known, top = _accepted(conn, station, [anchor.seq, *(link.seq for link in anchor.links)])
    code, expected_seq, expected_hash = (
        judge(anchor, known, top) if sealed else ("audit.bad_seal", None, None)
    )
    if code is not None or known.get(anchor.seq) != anchor.hash:  # an accepted head is kept once
        row = {
            "station": station,
            "seq": anchor.seq,
            "hash": anchor.hash,
            "links": ",".join(f"{link.seq}:{link.hash}" for link in anchor.links) or None,
            "key_id": anchor.key_id,
            "public_key": anchor.public_key,
            "seal": anchor.seal,
            "status": REJECTED if code else ACCEPTED,
            "code": code,
            "expected_seq": expected_seq,
            "expected_hash": expected_hash,
            "staff_no": staff_no,
            "received_at": storage.iso(now),
        }
        storage.insert_rows(conn, ANCHORS, [row])
    if code is None:
        top_seq = max(anchor.seq, top[0]) if top else anchor.seq
        return AnchorAnswer(status=AnchorStatus.ACCEPTED, anchored_seq=top_seq)
    expected = "-" if expected_seq is None else expected_seq
    reason = Problem(code, {"seq": anchor.seq, "expected": expected}).zh()
    return AnchorAnswer(
        status=AnchorStatus.REJECTED,
        code=code,
        reason=reason,
        anchored_seq=top[0] if top else None,
        expected_seq=expected_seq,
    )


def reset(conn: Connection, station: str, by: str, now: dt.datetime) -> None:
    """Start a new baseline for ``station``: heads accepted before no longer count."""
    storage.insert_rows(
        conn,
        ANCHORS,
        [
            {
                "station": station,
                "seq": 0,
                "hash": "",
                "status": RESET,
                "staff_no": by,
                "received_at": storage.iso(now),
            }
        ],
    )


def _registered(conn: Connection, station: str) -> set[str]:
    query = select(KEYS.c.key_id).where(KEYS.c.station == station, KEYS.c.revoked_at.is_(None))
    return {str(r[0]) for r in conn.execute(query)}


def trail(conn: Connection, station: str) -> AuditTrail:
    """Every head the hall holds for ``station``, oldest first."""
    registered = _registered(conn, station)
    rows = conn.execute(select(ANCHORS).where(ANCHORS.c.station == station).order_by(ANCHORS.c.id)).all()
    return AuditTrail(
        station=station,
        anchors=[
            AnchorRecord(
                seq=r.seq,
                hash=r.hash,
                status=r.status,
                code=r.code,
                key_id=r.key_id,
                key_registered=r.key_id in registered,
                received_at=r.received_at,
            )
            for r in rows
        ],
    )


def summaries(conn: Connection) -> list[dict[str, Any]]:
    """Per station: the highest accepted head, alarms since the last reset, the last alarm."""
    found: dict[str, dict[str, Any]] = {}
    for r in conn.execute(select(ANCHORS).order_by(ANCHORS.c.id)).all():
        entry = found.setdefault(r.station, _empty(r.station))
        if r.status == RESET:
            found[r.station] = {**_empty(r.station), "reset_at": r.received_at, "reset_by": r.staff_no}
        elif r.status == ACCEPTED:
            if entry["anchored_seq"] is None or r.seq >= entry["anchored_seq"]:
                entry.update(anchored_seq=r.seq, anchored_hash=r.hash, anchored_at=r.received_at)
        else:
            entry["alarms"].append(
                {
                    "code": r.code,
                    "seq": r.seq,
                    "expected_seq": r.expected_seq,
                    "key_id": r.key_id,
                    "staff_no": r.staff_no,
                    "at": r.received_at,
                }
            )
    return [found[code] for code in sorted(found)]


def _empty(station: str) -> dict[str, Any]:
    return {
        "station": station,
        "anchored_seq": None,
        "anchored_hash": None,
        "anchored_at": None,
        "alarms": [],
        "reset_at": None,
        "reset_by": None,
    }
