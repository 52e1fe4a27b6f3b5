"""SQLModel tables of the local store.

The schema itself is created and evolved by the named migrations in
``offline_cache.migrations``; these classes describe it for queries, and a test checks that the
two agree column for column.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class CaseRow(SQLModel, table=True):
    """A case (办件) as stored locally."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(unique=True)
    station: str
    window: str
    clerk: str
    channel: str
    item_code: str
    item_name: str
    is_package: bool = False
    applicant_type: str
    applicant_id: str
    applicant_name: str
    agent_name: str | None = None
    agent_id: str | None = None
    phone: str | None = None
    state: str
    verdict: str
    reasons: str = "[]"  # JSON list of problem codes and parameters
    commitment: bool = False
    approved_by: str | None = None
    accepted_on: dt.date
    due_date: dt.date | None = None
    due_provisional: bool = False
    supplement_due: dt.date | None = None
    supplement_provisional: bool = False
    remaining_days: int | None = None  # limit left while the clock is paused for 补正
    limit_unit: str
    certificate_type: str | None = None
    dedupe_key: str | None = Field(default=None, unique=True)
    content_hash: str | None = None
    synced: bool = False
    closed_on: dt.date | None = None  # 销号 of the tolerance entry
    closed_by: str | None = None
    created_at: str
    updated_at: str


class CaseMaterialRow(SQLModel, table=True):
    """One line of a case's material checklist, as presented."""

    __tablename__ = "case_materials"

    case_no: str = Field(primary_key=True)
    code: str = Field(primary_key=True)
    name: str
    tolerance: str
    status: str
    supplement_due: dt.date | None = None
    received_on: dt.date | None = None


class ApplicantRow(SQLModel, table=True):
    """What the station knows of an applicant's standing (失信, broken commitments)."""

    __tablename__ = "applicants"

    applicant_id: str = Field(primary_key=True)
    applicant_type: str
    name: str
    dishonest: bool = False
    open_commitments: int = 0
    unfulfilled_commitments: int = 0
    updated_at: str


class OutboxRow(SQLModel, table=True):
    """An operation waiting to be pushed to the hall server."""

    __tablename__ = "outbox"

    seq: int | None = Field(default=None, primary_key=True)
    op_id: str = Field(unique=True)
    kind: str
    case_no: str | None = None
    payload: str
    created_at: str
    status: str = "pending"
    attempts: int = 0
    result: str | None = None
    reason: str | None = None
    acked_at: str | None = None
    code: str | None = None  # the server's problem code when refused
    reviewed_by: str | None = None  # staff who reviewed a refused operation
    reviewed_at: str | None = None


class AuditEventRow(SQLModel, table=True):
    """One link of the audit hash chain."""

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True)
    at: str
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str
    hash: str


class CaseSequenceRow(SQLModel, table=True):
    """Last case sequence number used by a station on a day."""

    __tablename__ = "case_sequences"

    station: str = Field(primary_key=True)
    day: str = Field(primary_key=True)
    last: int = 0


class HolidayDayRow(SQLModel, table=True):
    """One day of a hall-maintained holiday arrangement: a holiday or an adjusted workday."""

    __tablename__ = "holiday_days"

    day: dt.date = Field(primary_key=True)
    year: int
    kind: str  # "holiday" or "workday"
    name: str


class HolidayYearRow(SQLModel, table=True):
    """A year whose official arrangement the hall has imported."""

    __tablename__ = "holiday_years"

    year: int = Field(primary_key=True)
    source: str
    imported_at: str


class MetaRow(SQLModel, table=True):
    """Key/value facts about the store (audit head, station, …)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


class MigrationRow(SQLModel, table=True):
    """A named migration that has been applied."""

    __tablename__ = "schema_migrations"

    name: str = Field(primary_key=True)
    applied_at: str


class StaffRow(SQLModel, table=True):
    """A staff account as cached on this station (the hash of the last online sign-in)."""

    __tablename__ = "staff"

    staff_no: str = Field(primary_key=True)
    name: str
    role: str
    station: str
    password_hash: str
    failed_attempts: int = 0
    locked_until: str | None = None
    last_online_login: str | None = None
    active: bool = True


class SyncConflictRow(SQLModel, table=True):
    """An operation that lost a conflict on the hall server, kept for staff to review."""

    __tablename__ = "sync_conflicts"

    op_id: str = Field(primary_key=True)
    case_no: str | None = None
    code: str
    reason: str
    winner: str | None = None  # the operation or decision that won, as the server names it
    change_seq: int | None = None  # the change that announced it (None: refused at push)
    detail: str = "{}"
    recorded_at: str


class RemoteStandingRow(SQLModel, table=True):
    """An applicant's commitments at another station, as the hall server reported them."""

    __tablename__ = "remote_standings"

    applicant_id: str = Field(primary_key=True)
    station: str = Field(primary_key=True)
    open_commitments: int = 0
    unfulfilled_commitments: int = 0
    dishonest: bool = False
    change_seq: int
    updated_at: str


class CachedDocumentRow(SQLModel, table=True):
    """A document fetched from the hall server (the catalogue in force)."""

    __tablename__ = "cached_documents"

    name: str = Field(primary_key=True)
    version: str
    body: str
    fetched_at: str


class PulledChangeRow(SQLModel, table=True):
    """A pulled change kept verbatim for a consumer that is not built yet (keys, certificates)."""

    __tablename__ = "pulled_changes"

    seq: int = Field(primary_key=True)
    kind: str
    key: str
    payload: str
    at: str
    received_at: str
    consumed_at: str | None = None


class CertificateRow(SQLModel, table=True):
    """A certificate issued here (``origin='local'``) or pulled from the hall (``'remote'``)."""

    __tablename__ = "certificates"

    identifier: str = Field(primary_key=True)
    certificate_type: str
    type_code: str
    type_name: str
    holder_name: str
    holder_id: str
    holder_id_type: str  # GB/T 36903: 111 公民身份号码, 001 统一社会信用代码
    issuer_code: str
    issuer_name: str
    station: str
    issued_on: dt.date
    valid_until: dt.date | None = None  # None: 长期有效
    key_id: str
    body: str  # the canonical JSON the seal signs
    seal: str  # SM2 signature r||s, hex
    qr: str
    origin: str = "local"
    issued_by: str
    printed: int = 0
    created_at: str


class CertificateCaseRow(SQLModel, table=True):
    """Which case(s) a certificate results from."""

    __tablename__ = "certificate_cases"

    case_no: str = Field(primary_key=True)
    identifier: str = Field(primary_key=True)


class CertificateHandoverRow(SQLModel, table=True):
    """领取 or 寄递 of a certificate: who collected it (ID checked) or the tracking number."""

    __tablename__ = "certificate_handovers"

    identifier: str = Field(primary_key=True)
    kind: str  # "holder" | "agent" | "mail"
    collector_name: str | None = None
    collector_id: str | None = None
    tracking_no: str | None = None
    handed_over_on: dt.date
    handed_over_by: str
    at: str


class CertificateRevocationRow(SQLModel, table=True):
    """A revoked certificate (revoked here by a supervisor or pulled from the hall)."""

    __tablename__ = "certificate_revocations"

    identifier: str = Field(primary_key=True)
    reason: str
    revoked_at: str
    revoked_by: str
    source: str  # "local" | "hall"
    published_at: str | None = None  # a local revocation, once the hall has it
    approval: str | None = None  # a local revocation: the supervisor's signed approval (JSON)


class CertificateSequenceRow(SQLModel, table=True):
    """Last certificate serial sequence used by a station."""

    __tablename__ = "certificate_sequences"

    station: str = Field(primary_key=True)
    last: int = 0


class SigningKeyRow(SQLModel, table=True):
    """An SM2 key: this station's own (with its private half) or one the hall published."""

    __tablename__ = "signing_keys"

    key_id: str = Field(primary_key=True)
    station: str
    public_key: str
    private_key: str | None = None
    proof: str  # proof of possession: the key's signature over its id, station and public key
    origin: str  # "own" | "published"
    created_at: str
    retired_at: str | None = None  # rotated out: verifies old certificates, signs nothing new
    revoked_at: str | None = None
    revoked_reason: str | None = None
    published_at: str | None = None  # an own key, once registered at the hall
    approval: str | None = None  # an own key: the supervisor's signed approval to register it (JSON)
