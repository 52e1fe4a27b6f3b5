"""Reads for the 电子档案: everything the store holds about a set of cases, as plain rows.

Whole rows (``SELECT *``), so a column a later migration adds is archived without a change here;
a few queries per chunk of cases rather than a few per case (an export of a day reads thousands).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from models.records import MaterialView
from offline_cache import audit as chain
from offline_cache.repositories import CASE_VIEW_COLUMNS

CHUNK = 500  # bound parameters per IN list (far below SQLite's limit)
_JSON_COLUMNS = frozenset({"payload", "result", "detail", "reasons", "approval", "body"})
_EVENT_COLUMNS = "seq, at, actor, action, subject, detail, prev_hash, hash"


@dataclass
class CaseRows:
    """Everything the store holds about one case.

    Attributes:
        record: every column of its ``cases`` row. ``view_row``: the row in
            :data:`~offline_cache.repositories.CASE_VIEW_COLUMNS` order (for the read model).
        materials: its checklist rows. ``operations``: its outbox rows. ``refusals``: the hall's
            refusals of them. ``events``: its audit events (seq, at, actor, action, subject,
            detail, prev_hash, hash). ``certificates``: the certificates it resulted in, each
            with its ``handover`` and ``revocation`` rows.
    """

    record: dict[str, Any]
    view_row: tuple[Any, ...]
    materials: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)

    def material_views(self) -> list[MaterialView]:
        """The checklist as the documents read it."""
        day = _date
        return [
            MaterialView(
                m["code"],
                m["name"],
                m["tolerance"],
                m["status"],
                day(m["supplement_due"]),
                day(m["received_on"]),
            )
            for m in self.materials
        ]


def _date(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value))


def _decoded(row: Any) -> dict[str, Any]:
    """A row as a dict; columns that hold JSON text are decoded (kept as text when not JSON)."""
    record = dict(row._mapping)
    for name in _JSON_COLUMNS & record.keys():
        value = record[name]
        if isinstance(value, str) and value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):  # else stored text that only looks like JSON
                record[name] = json.loads(value)
    return record


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" * len(values))


def case_numbers_on(conn: Connection, day: dt.date) -> list[str]:
    """The cases accepted on ``day``, in the order they were accepted."""
    rows = conn.exec_driver_sql(
        "SELECT case_no FROM cases WHERE accepted_on = ? ORDER BY id", (day.isoformat(),)
    )
    return [str(r[0]) for r in rows]


def existing_case_numbers(conn: Connection, case_nos: Sequence[str]) -> set[str]:
    """Those of ``case_nos`` the store holds."""
    found: set[str] = set()
    for start in range(0, len(case_nos), CHUNK):
        part = tuple(case_nos[start : start + CHUNK])
        rows = conn.exec_driver_sql(f"SELECT case_no FROM cases WHERE case_no IN ({_marks(part)})", part)
        found.update(str(r[0]) for r in rows)
    return found


def _grouped(conn: Connection, sql: str, part: tuple[str, ...], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.exec_driver_sql(sql.format(marks=_marks(part)), part):
        record = _decoded(row)
        groups[str(record[key])].append(record)
    return groups


def case_rows(conn: Connection, case_nos: Sequence[str]) -> dict[str, CaseRows]:
    """Everything about each of ``case_nos`` (at most :data:`CHUNK`) the store holds."""
    part = tuple(case_nos)
    marks = _marks(part)
    found: dict[str, CaseRows] = {}
    views = {
        str(r[0]): tuple(r)
        for r in conn.exec_driver_sql(
            f"SELECT {CASE_VIEW_COLUMNS} FROM cases WHERE case_no IN ({marks})", part
        )
    }
    for row in conn.exec_driver_sql(f"SELECT * FROM cases WHERE case_no IN ({marks})", part):
        record = _decoded(row)
        found[record["case_no"]] = CaseRows(record, views[record["case_no"]])
    where = "WHERE case_no IN ({marks})"
    for name, sql in (
        ("materials", f"SELECT * FROM case_materials {where} ORDER BY rowid"),
        ("operations", f"SELECT * FROM outbox {where} ORDER BY seq"),
        ("refusals", f"SELECT * FROM sync_conflicts {where} ORDER BY recorded_at, op_id"),
    ):
        for case_no, rows in _grouped(conn, sql, part, "case_no").items():
            if case_no in found:
                setattr(found[case_no], name, rows)
    events = conn.exec_driver_sql(
        f"SELECT {_EVENT_COLUMNS} FROM audit_events WHERE subject IN ({marks}) ORDER BY seq", part
    )
    for event in events:
        found[event[4]].events.append(tuple(event))
    for case_no, certificates in _certificates(conn, part).items():
        found[case_no].certificates = certificates
    return found


def _certificates(conn: Connection, part: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """The certificates of those cases, each with its handover and revocation (or None)."""
    by_case = _grouped(
        conn,
        "SELECT k.case_no AS linked_case, c.* FROM certificates c"
        " JOIN certificate_cases k ON k.identifier = c.identifier"
        " WHERE k.case_no IN ({marks}) ORDER BY c.identifier",
        part,
        "linked_case",
    )
    identifiers = tuple({c["identifier"] for rows in by_case.values() for c in rows})
    extras: dict[str, dict[str, Any]] = {}
    for key, table in (("handover", "certificate_handovers"), ("revocation", "certificate_revocations")):
        sql = f"SELECT * FROM {table} WHERE identifier IN ({{marks}})"
        extras[key] = {i: r[0] for i, r in _grouped(conn, sql, identifiers, "identifier").items()}
    for linked in by_case.values():
        for record in linked:
            record.pop("linked_case")
            for name in ("handover", "revocation"):
                record[name] = extras[name].get(record["identifier"])
    return by_case


def chain_position(conn: Connection) -> dict[str, Any]:
    """The chain's head and the highest head the hall acknowledged (where the slices sit)."""
    seq, digest = chain.read_head(conn)
    return {"head_seq": seq, "head_hash": digest, "acknowledged_seq": chain.acknowledged_seq(conn)}
