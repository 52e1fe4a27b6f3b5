"""The hall server's tables (SQLModel), kept in their own metadata apart from the client's tables.

Timestamps are stored as ISO 8601 text in UTC so that SQLite and PostgreSQL hold the same values
and the client's ``created_at`` can be kept verbatim. Sequence numbers (``server_seq``,
``changes.seq``) are assigned by the server inside its serialised write transactions (see
:mod:`hall_server.storage`), so they are gap-free and their order is the commit order.

The schema itself is created and evolved by the numbered migrations in :mod:`hall_server.db`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, MetaData
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class HallModel(SQLModel, registry=registry(metadata=MetaData())):
    """Base of the server's tables: a registry (and metadata) of their own."""


METADATA = HallModel.metadata


class SchemaVersionRow(HallModel, table=True):
    """One applied schema migration."""

    __tablename__ = "hall_schema_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str
    applied_at: str


class StationRow(HallModel, table=True):
    """A hall or park station that syncs with this server."""

    __tablename__ = "stations"

    code: str = Field(primary_key=True, max_length=32)
    name: str
    kind: str = "hall"


class StaffRow(HallModel, table=True):
    """A staff account; the server is the authority for passwords."""

    __tablename__ = "staff"

    staff_no: str = Field(primary_key=True, max_length=32)
    name: str
    role: str
    station: str
    password_hash: str
    active: bool = True


class TokenRow(HallModel, table=True):
    """An issued bearer token, stored as its SHA-256 only."""

    __tablename__ = "tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_no: str
    station: str
    role: str
    issued_at: str
    expires_at: str


class CaseRow(HallModel, table=True):
    """A case as the server knows it: the accept operation's facts and the folded state."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_applicant", "applicant_id", "station"),)

    case_no: str = Field(primary_key=True, max_length=64)
    station: str = Field(index=True)
    item_code: str
    applicant_type: str
    applicant_id: str
    applicant_name: str
    accept_state: str  # the state the accept operation created (the fold starts here)
    state: str = Field(index=True)  # the folded state
    version: int = 0  # bumped on every change of the folded state
    accepted_on: str
    accept_op_id: str
    created_at: str  # the client's clock, verbatim
    received_at: str
    updated_at: str


class OperationRow(HallModel, table=True):
    """Every operation the server received once, in its own order, with its first answer.

    ``fold`` is the operation's place in its case's fold: ``applied``, ``lost`` (kept, with the
    winner) or ``refused`` (structurally invalid; never folded).
    """

    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_case", "case_no", "server_seq"),)

    server_seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    op_id: str = Field(unique=True, max_length=64)
    station: str
    staff_no: str
    origin: str  # "station" or "back-office"
    kind: str
    case_no: str | None = None
    event: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    payload: str
    client_seq: int = Field(sa_type=BigInteger)  # the protocol allows any 64-bit value
    created_at: str  # the client's clock, verbatim
    received_at: str
    status: str  # the first answer: applied / refused
    code: str | None = None
    reason: str | None = None
    answer_state: str | None = None
    fold: str
    winner_op_id: str | None = None
    winner_event: str | None = None


class ChangeRow(HallModel, table=True):
    """One entry of the change feed; ``audience`` is a station code or ``*`` for every station."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_audience_seq", "audience", "seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str
    key: str
    payload: str
    audience: str
    at: str
    document: str  # the whole models.sync.Change as JSON, written once: a pull only joins these


class StandingRow(HallModel, table=True):
    """An applicant's commitments at one station (一处失信，处处受限)."""

    __tablename__ = "standings"

    applicant_id: str = Field(primary_key=True, max_length=64)
    station: str = Field(primary_key=True, max_length=32)
    open_commitments: int = 0
    unfulfilled_commitments: int = 0
    dishonest: bool = False  # the hall's 失信 record; nothing sets it yet
    updated_at: str


class DocumentRow(HallModel, table=True):
    """A published reference document: the catalogue or one year's holiday arrangement."""

    __tablename__ = "documents"

    kind: str = Field(primary_key=True, max_length=16)  # "catalog" or "holidays"
    key: str = Field(primary_key=True, max_length=16)  # "catalog" or the year
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    content: str
    published_at: str


class StaffApprovalKeyRow(HallModel, table=True):
    """A public key a supervisor's (or admin's) password stands for (:mod:`models.approval`).

    Recorded whenever the hall sees the password (account created, password set, online sign-in)
    and never deleted, so approvals signed before a password change keep verifying.
    """

    __tablename__ = "staff_approval_keys"

    key_id: str = Field(primary_key=True, max_length=96)
    staff_no: str = Field(index=True, max_length=32)
    public_key: str = Field(max_length=128)
    password_hash: str  # the account's hash when recorded: a sign-in with it derives nothing again
    recorded_at: str


class OperationApprovalRow(HallModel, table=True):
    """Who approved an operation, as the hall verified it from the signed approval it carried
    (:func:`hall_server.auth.approver_of`); the payload's own ``approved_by`` is never trusted."""

    __tablename__ = "operation_approvals"

    op_id: str = Field(primary_key=True, max_length=64)
    approved_by: str = Field(max_length=32)
    act: str
    key_id: str = Field(max_length=96)
    signed_at: str  # the approval's own time (the counter's clock)


TABLES_V1 = [
    METADATA.tables[name]
    for name in ("stations", "staff", "tokens", "cases", "operations", "changes", "standings", "documents")
]
TABLES_V4 = [METADATA.tables["staff_approval_keys"]]
TABLES_V5 = [METADATA.tables["operation_approvals"]]
