"""The change feed: what every station pulls (``changes``), appended inside write transactions.

Each change is written once as the whole :class:`models.sync.Change` document
(:func:`models.sync.encode_change`), so a pull is a read of rows and a join of strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pydantic_core import to_json
from sqlalchemy import BigInteger, ColumnElement, Connection, bindparam, select

from hall_server.storage.schema import CHANGES
from hall_server.storage.sql import insert_rows, iso, next_seq, strict_dumps
from models.sync import ChangeKind, encode_change

ALL_STATIONS = "*"


class NewChange(NamedTuple):
    """A change to append to the feed (a named tuple: cheap to make by the thousand)."""

    kind: ChangeKind
    key: str
    payload: Mapping[str, Any]
    audience: str = ALL_STATIONS


_CHANGE_KINDS = {kind: kind.value for kind in ChangeKind}  # plain strings for the rows
_SCALARS = frozenset({str, int, bool, type(None)})


def _payload_json(payload: Mapping[str, Any]) -> str:
    """A change's payload as JSON.

    Most changes (a case's new state, a standing) hold only strings, integers, booleans and
    nulls: pydantic-core writes those in one call. Anything else goes through the strict encoder,
    which refuses NaN and infinities (no client could parse them).
    """
    if type(payload) is dict and all(type(value) in _SCALARS for value in payload.values()):
        return to_json(payload).decode()
    return strict_dumps(dict(payload))


def append_changes(conn: Connection, changes: Sequence[NewChange], at: dt.datetime) -> list[int]:
    """Append ``changes`` to the feed in order (inside a write transaction); returns their seqs."""
    if not changes:
        return []
    first = next_seq(conn, CHANGES, "seq")
    stamp = iso(at)
    rows: list[dict[str, Any]] = []
    for seq, change in enumerate(changes, start=first):
        payload = _payload_json(change.payload)
        kind = _CHANGE_KINDS[change.kind]
        rows.append(
            {
                "seq": seq,
                "kind": kind,
                "key": change.key,
                "payload": payload,
                "audience": change.audience,
                "at": stamp,
                "document": encode_change(seq, kind, change.key, payload, stamp),
            }
        )
    insert_rows(conn, CHANGES, rows)
    return list(range(first, first + len(rows)))


def _cursor(after: int) -> ColumnElement[int]:
    # A 64-bit parameter: PostgreSQL's feed column is 32-bit, and a cursor beyond its range must
    # find no changes rather than fail to convert.
    return bindparam("after", after, type_=BigInteger())


def changes_after(
    conn: Connection, station: str, after: int, limit: int
) -> list[tuple[int, str, str, str, str]]:
    """(seq, kind, key, payload JSON, at) of the changes for ``station`` after ``after``, oldest first."""
    query = (
        select(CHANGES.c.seq, CHANGES.c.kind, CHANGES.c.key, CHANGES.c.payload, CHANGES.c.at)
        .where(CHANGES.c.seq > _cursor(after), CHANGES.c.audience.in_([station, ALL_STATIONS]))
        .order_by(CHANGES.c.seq)
        .limit(limit)
    )
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


def change_documents_after(conn: Connection, station: str, after: int, limit: int) -> list[tuple[int, str]]:
    """(seq, the change as JSON) for ``station`` after ``after``, oldest first (see :func:`changes_after`)."""
    query = (
        select(CHANGES.c.seq, CHANGES.c.document)
        .where(CHANGES.c.seq > _cursor(after), CHANGES.c.audience.in_([station, ALL_STATIONS]))
        .order_by(CHANGES.c.seq)
        .limit(limit)
    )
    rows = conn.execute(query)
    return [(int(seq), document) for seq, document in rows]
