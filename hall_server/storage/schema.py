"""The hall server's tables (SQLModel), kept in their own metadata apart from the client's tables.

Timestamps are stored as ISO 8601 text in UTC so that SQLite and PostgreSQL hold the same values
and the client's ``created_at`` can be kept verbatim. Sequence numbers (``server_seq``,
``changes.seq``) are assigned by the server inside its serialised write transactions (see
:mod:`hall_server.storage`), so they are gap-free and their order is the commit order.

Every table of the hall is here, so the numbered migrations (:mod:`hall_server.storage.migrations`)
create and evolve the schema without reaching into the modules that use it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, UniqueConstraint
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


# ------------------------------------------------------------------ 好差评 and 差评整改 (v11)


class RatingRow(HallModel, table=True):
    """An applicant's rating of a case through one channel (``level`` None: 未评价), as folded
    from a station's ``rating.record``; window, clerk and item are the hall's own facts of the case."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("case_no", "channel", name="uq_ratings_case_channel"),
        Index("ix_ratings_station", "station", "rated_on"),
    )

    op_id: str = Field(primary_key=True, max_length=64)
    case_no: str = Field(max_length=64)
    channel: str = Field(max_length=8)  # models.rating.RatingChannel
    level: int | None = None
    reasons: str  # JSON list of models.rating.Reason codes
    text: str | None = None
    rated_on: str = Field(max_length=10)  # the counter's day
    station: str = Field(max_length=32)
    window: str
    clerk: str
    item_code: str
    recorded_by: str  # who was at the counter (the payload's ``by``)
    staff_no: str  # whose token pushed it
    received_at: str


class RectificationRow(HallModel, table=True):
    """The 整改 of one 差评 (:mod:`models.rectification`): its state, deadlines and each step's
    who, when and words."""

    __tablename__ = "rectifications"

    id: int | None = Field(default=None, primary_key=True)
    rating_op_id: str = Field(unique=True, max_length=64)
    case_no: str = Field(index=True, max_length=64)
    station: str = Field(index=True, max_length=32)
    level: int
    state: str = Field(index=True, max_length=16)
    created_on: str = Field(max_length=10)  # the hall's day (China time) the 差评 arrived
    verify_due: str = Field(max_length=10)
    rectify_due: str = Field(max_length=10)
    provisional: bool = False  # a deadline counted over a year with no published arrangement
    assigned_to: str | None = None
    assigned_by: str | None = None
    assigned_at: str | None = None
    verify_note: str | None = None
    verified_by: str | None = None
    verified_at: str | None = None
    rectify_note: str | None = None
    rectified_by: str | None = None
    rectified_at: str | None = None
    callback_result: str | None = None
    callback_by: str | None = None
    callback_at: str | None = None
    updated_at: str


# ------------------------------------------------------------------ identity checks (v12)


class CaseIdentityRow(HallModel, table=True):
    """How a case's applicant was identified at the counter, and whether it was 帮办代办
    (models.identity_check); cases from counters older than the check have no row."""

    __tablename__ = "case_identities"
    __table_args__ = (Index("ix_case_identities_station", "station", "accepted_on"),)

    case_no: str = Field(primary_key=True, max_length=64)
    station: str
    window: str
    accepted_on: str
    method: str | None = None  # id_card / e_id / face / agent
    slip: str | None = None  # the 身份核验单 number of a face check
    power_of_attorney: bool = False
    assisted: bool = False


# ------------------------------------------------------------------ the queue (v10)


class QueueTicketRow(HallModel, table=True):
    """A station's queue ticket (排队叫号) as the hall folded its operations; schema v10.

    The station is the pusher's (never a payload field); times are the station's clock as sent,
    normalised to UTC ISO text (the figures subtract them); ``cases`` is the JSON list a visit
    produced.
    """

    __tablename__ = "queue_tickets"
    __table_args__ = (Index("ix_queue_tickets_day", "day", "station"),)

    station: str = Field(primary_key=True, max_length=32)
    day: str = Field(primary_key=True, max_length=10)
    ticket: str = Field(primary_key=True, max_length=8)
    category: str = Field(max_length=1)
    state: str = Field(max_length=16)
    window: str | None = Field(default=None, max_length=8)
    target_window: str | None = Field(default=None, max_length=8)
    appointment: str | None = Field(default=None, max_length=64)
    item_code: str | None = Field(default=None, max_length=64)
    taken_at: str
    queued_at: str  # when it joined the queue last (taken or re-queued): the board's order
    called_at: str | None = None  # the first call
    started_at: str | None = None
    finished_at: str | None = None
    calls: int = 0
    cases: str = "[]"
    take_op_id: str = Field(max_length=64)
    received_at: str
    updated_at: str


class QueueWindowRow(HallModel, table=True):
    """A station's window paused (暂停服务, with its reason) or resumed; schema v10."""

    __tablename__ = "queue_windows"

    station: str = Field(primary_key=True, max_length=32)
    window: str = Field(primary_key=True, max_length=8)
    paused: bool = False
    reason: str | None = None
    since: str
    updated_at: str


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
RATINGS: Table = RatingRow.__table__  # type: ignore[attr-defined]
RECTIFICATIONS: Table = RectificationRow.__table__  # type: ignore[attr-defined]
CASE_IDENTITIES: Table = CaseIdentityRow.__table__  # type: ignore[attr-defined]
QUEUE_TICKETS: Table = QueueTicketRow.__table__  # type: ignore[attr-defined]
QUEUE_WINDOWS: Table = QueueWindowRow.__table__  # type: ignore[attr-defined]
PARTNERS: Table = PartnerRow.__table__  # type: ignore[attr-defined]
PARTNER_INBOX: Table = PartnerInboxRow.__table__  # type: ignore[attr-defined]
CROSS_CASES: Table = CrossCaseRow.__table__  # type: ignore[attr-defined]
HALL_CERTIFICATES: Table = HallCertificateRow.__table__  # type: ignore[attr-defined]

TABLES_V1 = [STATIONS, STAFF, TOKENS, CASES, OPS, CHANGES, STANDINGS, DOCUMENTS]
TABLES_V2 = [KEYS, REVOCATIONS]
TABLES_V3 = [VERIFICATIONS]
TABLES_V4 = [APPROVAL_KEYS]
TABLES_V5 = [OPERATION_APPROVALS]
TABLES_V6 = [PROOFS]
TABLES_V7 = [ANCHORS]
TABLES_V8 = [THROTTLE]
TABLES_V10 = [QUEUE_TICKETS, QUEUE_WINDOWS]
TABLES_V11 = [RATINGS, RECTIFICATIONS]
TABLES_V12 = [CASE_IDENTITIES]
TABLES_V13 = [PARTNERS, PARTNER_INBOX, CROSS_CASES, HALL_CERTIFICATES]
