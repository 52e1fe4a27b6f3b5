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
