"""The hall server's tables (SQLModel), kept in their own metadata apart from the client's tables.

Timestamps are stored as ISO 8601 text in UTC so that SQLite and PostgreSQL hold the same values
and the client's ``created_at`` can be kept verbatim. Sequence numbers (``server_seq``,
``changes.seq``) are assigned by the server inside its serialised write transactions (see
:mod:`hall_server.storage`), so they are gap-free and their order is the commit order.

Every table of the hall is here or in its siblings ``schema_service`` (queue, ratings, identity
checks), ``schema_crosshall`` (跨区通办) and ``schema_supervision`` (首办负责人, reminders), all on
this module's :data:`METADATA`, so the numbered migrations (:mod:`hall_server.storage.migrations`)
create and evolve the schema without reaching into the modules that use it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, Table
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
    (:func:`hall_server.domain.approvals.approver_of`); the payload's own ``approved_by`` is never trusted."""

    __tablename__ = "operation_approvals"

    op_id: str = Field(primary_key=True, max_length=64)
    approved_by: str = Field(max_length=32)
    act: str
    key_id: str = Field(max_length=96)
    signed_at: str  # the approval's own time (the counter's clock)


# ------------------------------------------------------------------ certificates (v2, v3, v6)


class CertificateKeyRow(HallModel, table=True):
    """A station's registered public signing key."""

    __tablename__ = "certificate_keys"

    key_id: str = Field(primary_key=True, max_length=64)
    station: str = Field(index=True, max_length=32)
    public_key: str
    proof: str
    created_at: str  # the station's clock, verbatim
    registered_at: str
    registered_by: str
    revoked_at: str | None = None
    revoked_reason: str | None = None
    revoked_by: str | None = None


class CertificateRevocationRow(HallModel, table=True):
    """A revoked certificate (the revocation list)."""

    __tablename__ = "certificate_revocations"

    identifier: str = Field(primary_key=True, max_length=128)
    reason: str
    revoked_at: str
    revoked_by: str
    station: str  # where the revocation was made (or "back-office")
    received_at: str


class VerificationLogRow(HallModel, table=True):
    """Online verifications answered by the hall, counted (schema versions 3 and 10): audited
    like every verification on a station, without the holder's data.

    The endpoint is public, so the log is bounded: a QR text whose seal verified (valid, revoked,
    expired; as many as certificates were issued) keeps its own row per day with its
    certificate, key and the text's SHA-256; any other text (made up by the sender, in any
    number) is only counted per day and outcome (``identifier``/``key_id`` empty, ``qr_sha256``
    ``""``). ``at`` is the first verification of the row, ``last_at`` the latest, ``times`` how
    many. (Rows written before version 9 are one verification each.)
    """

    __tablename__ = "certificate_verifications"
    __table_args__ = (Index("ix_certificate_verifications_key", "qr_sha256", "day", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    at: str
    status: str
    identifier: str | None = Field(default=None, max_length=128)
    key_id: str | None = Field(default=None, max_length=64)
    qr_sha256: str = Field(max_length=64)
    day: str = Field(default="", max_length=10)
    times: int = 1
    last_at: str | None = None


class CertificateProofRow(HallModel, table=True):
    """Who approved a key registration, a key revocation or a certificate revocation, and how."""

    __tablename__ = "certificate_proofs"

    act: str = Field(primary_key=True, max_length=32)  # models.approval.ApprovalAct
    subject: str = Field(primary_key=True, max_length=128)  # key id or certificate identifier
    station: str = Field(max_length=32)
    by_staff: str = Field(max_length=32)
    approval: str | None = None  # the signed approval (JSON), or None when the caller's token proved it
    caller: str = Field(max_length=32)  # whose token sent it
    recorded_at: str


# ------------------------------------------------------------------ audit anchors (v7)


class AuditAnchorRow(HallModel, table=True):
    """One audit head a station sent (or a back-office reset of its baseline); schema v7."""

    __tablename__ = "audit_anchors"

    id: int | None = Field(default=None, primary_key=True)
    station: str = Field(index=True, max_length=32)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
    links: str | None = None  # "seq:hash,..." as sealed
    key_id: str | None = Field(default=None, max_length=64)
    public_key: str | None = Field(default=None, max_length=128)
    seal: str | None = Field(default=None, max_length=128)
    status: str = Field(max_length=16)
    code: str | None = Field(default=None, max_length=32)
    expected_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    expected_hash: str | None = Field(default=None, max_length=64)
    staff_no: str = Field(max_length=32)
    received_at: str


# ------------------------------------------------------------------ sign-in throttle (v8)


class SignInThrottleRow(HallModel, table=True):
    """Recent failed sign-ins of one account or one client address, and its lock."""

    __tablename__ = "sign_in_throttle"

    scope: str = Field(primary_key=True, max_length=8)  # "account" or "address"
    subject: str = Field(primary_key=True, max_length=64)  # staff number or client address
    failures: int = 0
    first_failure_at: str = Field(index=True)
    locked_until: str | None = None


# ------------------------------------------------------------------ the tables, by migration

OPS: Table = OperationRow.__table__  # type: ignore[attr-defined]
CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]
CHANGES: Table = ChangeRow.__table__  # type: ignore[attr-defined]
STANDINGS: Table = StandingRow.__table__  # type: ignore[attr-defined]
STAFF: Table = StaffRow.__table__  # type: ignore[attr-defined]
STATIONS: Table = StationRow.__table__  # type: ignore[attr-defined]
TOKENS: Table = TokenRow.__table__  # type: ignore[attr-defined]
DOCUMENTS: Table = DocumentRow.__table__  # type: ignore[attr-defined]
APPROVAL_KEYS: Table = StaffApprovalKeyRow.__table__  # type: ignore[attr-defined]
OPERATION_APPROVALS: Table = OperationApprovalRow.__table__  # type: ignore[attr-defined]
KEYS: Table = CertificateKeyRow.__table__  # type: ignore[attr-defined]
REVOCATIONS: Table = CertificateRevocationRow.__table__  # type: ignore[attr-defined]
VERIFICATIONS: Table = VerificationLogRow.__table__  # type: ignore[attr-defined]
PROOFS: Table = CertificateProofRow.__table__  # type: ignore[attr-defined]
ANCHORS: Table = AuditAnchorRow.__table__  # type: ignore[attr-defined]
THROTTLE: Table = SignInThrottleRow.__table__  # type: ignore[attr-defined]

TABLES_V1 = [STATIONS, STAFF, TOKENS, CASES, OPS, CHANGES, STANDINGS, DOCUMENTS]
TABLES_V2 = [KEYS, REVOCATIONS]
TABLES_V3 = [VERIFICATIONS]
TABLES_V4 = [APPROVAL_KEYS]
TABLES_V5 = [OPERATION_APPROVALS]
TABLES_V6 = [PROOFS]
TABLES_V7 = [ANCHORS]
TABLES_V8 = [THROTTLE]
