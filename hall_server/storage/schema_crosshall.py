"""The tables of 跨区通办 between halls (v13): partners, the partner inbox, forwarded cases and
the certificates this hall seals.

They share :data:`~hall_server.storage.schema.METADATA`; kept apart from ``schema.py`` only so
that module stays readable. Timestamps are ISO 8601 text in UTC.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Table
from sqlmodel import Field

from hall_server.storage.schema import HallModel

# ------------------------------------------------------------------ 跨区通办 (v13)


class PartnerRow(HallModel, table=True):
    """A partner hall: its URL, the key it signs with (checked when added), and how far this
    hall's messages to it (changes addressed ``@NAME``) were delivered and answered."""

    __tablename__ = "partners"

    name: str = Field(primary_key=True, max_length=16)
    url: str
    key_id: str = Field(max_length=64)
    public_key: str = Field(max_length=128)
    proof: str = Field(max_length=128)
    issuer_code: str = Field(default="", max_length=18)
    delivered_seq: int = Field(default=0, sa_type=BigInteger)  # the last change it answered
    added_at: str
    added_by: str
    removed_at: str | None = None
    last_attempt_at: str | None = None
    last_error: str | None = None


class PartnerInboxRow(HallModel, table=True):
    """A message a partner hall sent, once, with its first answer (a repeat gets the same)."""

    __tablename__ = "partner_inbox"

    partner: str = Field(primary_key=True, max_length=16)
    msg_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    case_no: str | None = Field(default=None, max_length=64)
    body_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)  # applied / refused
    code: str | None = None
    reason: str | None = None
    received_at: str


class CrossCaseRow(HallModel, table=True):
    """A 跨区通办 case: accepted here and handled by a partner (``origin``), or received from a
    partner to be handled here (``owner``)."""

    __tablename__ = "crosshall_cases"
    __table_args__ = (Index("ix_crosshall_cases_partner", "partner", "role", "status"),)

    case_no: str = Field(primary_key=True, max_length=64)
    partner: str = Field(max_length=16)
    role: str = Field(max_length=8)  # origin / owner
    item_code: str  # this hall's item code
    partner_item: str  # the partner's code of the same item
    station: str  # the station that accepted the case (at the origin hall)
    status: str = Field(max_length=16)  # forwarded / received / refused
    code: str | None = None
    reason: str | None = None
    updated_at: str


class HallCertificateRow(HallModel, table=True):
    """A certificate the hall issued itself (统一出证 of a case received from a partner)."""

    __tablename__ = "hall_certificates"

    identifier: str = Field(primary_key=True, max_length=128)
    sequence: int = Field(unique=True)
    case_no: str = Field(index=True, max_length=64)
    key_id: str = Field(max_length=64)
    record: str  # {"certificate": ..., "seal": ..., "qr": ...} as JSON
    issued_at: str


PARTNERS: Table = PartnerRow.__table__  # type: ignore[attr-defined]
PARTNER_INBOX: Table = PartnerInboxRow.__table__  # type: ignore[attr-defined]
CROSS_CASES: Table = CrossCaseRow.__table__  # type: ignore[attr-defined]
HALL_CERTIFICATES: Table = HallCertificateRow.__table__  # type: ignore[attr-defined]

TABLES_V13 = [PARTNERS, PARTNER_INBOX, CROSS_CASES, HALL_CERTIFICATES]
