"""跨区通办 storage: partner halls, the messages addressed to them, what they sent, the cases
that travel between halls and the certificates the hall issues itself.

A message to partner ``NAME`` is a change of the feed addressed ``@NAME`` (written in the same
transaction as what caused it; stations never see it: no station has that code), and the
partner's ``delivered_seq`` is how far they were answered: the hall's outbox to that partner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select, update

from hall_server.storage.schema import CASES, CHANGES
from hall_server.storage.schema_crosshall import CROSS_CASES, HALL_CERTIFICATES, PARTNER_INBOX, PARTNERS
from hall_server.storage.sql import insert_rows, is_in

PARTNER_AUDIENCE = "@"  # the audience of a message to a partner: "@" + its name


def audience(partner: str) -> str:
    """The feed audience of messages to ``partner``."""
    return PARTNER_AUDIENCE + partner


def partner_rows(conn: Connection, include_removed: bool = False) -> list[dict[str, Any]]:
    """Every partner (removed ones too when asked), by name."""
    query = select(PARTNERS).order_by(PARTNERS.c.name)
    if not include_removed:
        query = query.where(PARTNERS.c.removed_at.is_(None))
    return [dict(row._mapping) for row in conn.execute(query)]


def partner_row(conn: Connection, name: str) -> dict[str, Any] | None:
    """One partner (removed or not)."""
    row = conn.execute(select(PARTNERS).where(PARTNERS.c.name == name)).first()
    return dict(row._mapping) if row is not None else None


def save_partner(conn: Connection, row: Mapping[str, Any]) -> None:
    """Add a partner, or bring a removed one back (its delivery position is kept)."""
    if partner_row(conn, str(row["name"])) is None:
        insert_rows(conn, PARTNERS, [row])
        return
    values = {k: v for k, v in row.items() if k not in ("name", "delivered_seq")}
    conn.execute(update(PARTNERS).where(PARTNERS.c.name == row["name"]).values(**values))


def set_partner(conn: Connection, name: str, **values: Any) -> None:
    """Update columns of one partner."""
    conn.execute(update(PARTNERS).where(PARTNERS.c.name == name).values(**values))


def advance(conn: Connection, name: str, seq: int) -> None:
    """Messages up to ``seq`` were answered (never moves back: two senders may overlap)."""
    conn.execute(
        update(PARTNERS)
        .where(PARTNERS.c.name == name, PARTNERS.c.delivered_seq < seq)
        .values(delivered_seq=seq, last_error=None)
    )


def messages_for(conn: Connection, partner: str, after: int, limit: int) -> list[tuple[int, str, str, str]]:
    """(seq, kind, key, payload JSON) of the messages to ``partner`` after ``after``, oldest first."""
    query = (
        select(CHANGES.c.seq, CHANGES.c.kind, CHANGES.c.key, CHANGES.c.payload)
        .where(CHANGES.c.audience == audience(partner), CHANGES.c.seq > after)
        .order_by(CHANGES.c.seq)
        .limit(limit)
    )
    return [(int(r[0]), r[1], r[2], r[3]) for r in conn.execute(query)]


def waiting_count(conn: Connection, partner: str, after: int) -> int:
    """How many messages to ``partner`` wait to be answered."""
    query = select(func.count()).where(CHANGES.c.audience == audience(partner), CHANGES.c.seq > after)
    return int(conn.execute(query).scalar() or 0)


def inbox_answers(conn: Connection, partner: str, msg_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first answers to the messages of ``partner`` seen before, by id."""
    if not msg_ids:
        return {}
    query = select(PARTNER_INBOX).where(
        PARTNER_INBOX.c.partner == partner, is_in(conn, PARTNER_INBOX.c.msg_id, list(msg_ids))
    )
    return {row.msg_id: dict(row._mapping) for row in conn.execute(query)}


def insert_inbox(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep messages received with their answers."""
    insert_rows(conn, PARTNER_INBOX, rows)


def cross_cases(conn: Connection, case_nos: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The 跨区通办 records of ``case_nos``, by number."""
    if not case_nos:
        return {}
    query = select(CROSS_CASES).where(is_in(conn, CROSS_CASES.c.case_no, list(case_nos)))
    return {row.case_no: dict(row._mapping) for row in conn.execute(query)}


def insert_cross_cases(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record 跨区通办 cases."""
    insert_rows(conn, CROSS_CASES, rows)


def set_cross_case(conn: Connection, case_no: str, **values: Any) -> None:
    """Update one 跨区通办 record."""
    conn.execute(update(CROSS_CASES).where(CROSS_CASES.c.case_no == case_no).values(**values))


def cross_case_list(conn: Connection, partner: str | None = None) -> list[dict[str, Any]]:
    """Every 跨区通办 case with its state here, newest first."""
    query = (
        select(CROSS_CASES, CASES.c.state)
        .join(CASES, CASES.c.case_no == CROSS_CASES.c.case_no)
        .order_by(CROSS_CASES.c.updated_at.desc(), CROSS_CASES.c.case_no)
    )
    if partner is not None:
        query = query.where(CROSS_CASES.c.partner == partner)
    return [dict(row._mapping) for row in conn.execute(query)]


def to_certify(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Received cases approved here and not yet certified (or found to need none), oldest first."""
    query = (
        select(CASES, CROSS_CASES.c.partner)
        .join(CROSS_CASES, CROSS_CASES.c.case_no == CASES.c.case_no)
        .where(CROSS_CASES.c.role == "owner", CROSS_CASES.c.status == "received", CASES.c.state == "approved")
        .order_by(CASES.c.updated_at, CASES.c.case_no)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def next_certificate_sequence(conn: Connection) -> int:
    """The next serial sequence of the hall's own certificates (inside a write transaction)."""
    return int(conn.execute(select(func.max(HALL_CERTIFICATES.c.sequence))).scalar() or 0) + 1


def insert_hall_certificates(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep certificates the hall issued."""
    insert_rows(conn, HALL_CERTIFICATES, rows)
