"""Plain records passed between services and the store, and read models for front ends.

Screens and the CLI see these, never live ORM rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.identity_check import DEFAULT_CHECK, IdentityCheck

# Column order of the cases table for bulk inserts (offline_cache.repositories).
CASE_COLUMNS = (
    "case_no", "station", "window", "clerk", "channel", "item_code", "item_name", "is_package",
    "applicant_type", "applicant_id", "applicant_name", "agent_name", "agent_id", "phone",
    "state", "verdict", "reasons", "commitment", "approved_by", "accepted_on", "due_date",
    "due_provisional", "supplement_due", "supplement_provisional", "remaining_days",
    "limit_unit", "certificate_type", "dedupe_key", "content_hash", "created_at", "updated_at",
)  # fmt: skip


@dataclass(slots=True)
class NewMaterial:
    """One checklist line of a new case."""

    code: str
    name: str
    tolerance: str
    status: str
    supplement_due: dt.date | None


@dataclass(slots=True)
class NewCase:
    """A case about to be written; ``case_no`` is assigned in the write transaction."""

    station: str
    window: str
    clerk: str
    channel: str
    item_code: str
    item_name: str
    is_package: bool
    applicant_type: str
    applicant_id: str
    applicant_name: str
    agent_name: str | None
    agent_id: str | None
    phone: str | None
    state: str
    verdict: str
    reasons: str
    commitment: bool
    approved_by: str | None
    accepted_on: dt.date
    due_date: dt.date | None
    due_provisional: bool
    supplement_due: dt.date | None
    supplement_provisional: bool
    remaining_days: int | None
    limit_unit: str
    certificate_type: str | None
    dedupe_key: str | None
    content_hash: str | None
    materials: list[NewMaterial]
    case_no: str = ""
    identity: IdentityCheck = DEFAULT_CHECK  # written to case_identity with the case
    assisted: bool = False  # 帮办代办


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as front ends show it (IDs unmasked only where the caller asked and audited)."""

    case_no: str
    item_code: str
    item_name: str
    station: str
    clerk: str
    channel: str
    applicant_type: str
    applicant_id: str
    applicant_id_masked: str
    applicant_name: str
    agent_name: str | None
    phone_masked: str | None
    state: str
    verdict: str
    reasons: list[dict[str, object]]
    accepted_on: dt.date
    due_date: dt.date | None
    due_provisional: bool
    supplement_due: dt.date | None
    supplement_provisional: bool
    remaining_days: int | None
    limit_unit: str
    certificate_type: str | None
    commitment: bool
    approved_by: str | None
    flag: str | None
    synced: bool
    closed_on: dt.date | None
    closed_by: str | None


@dataclass(frozen=True, slots=True)
class MaterialView:
    """A checklist line of a stored case."""

    code: str
    name: str
    tolerance: str
    status: str
    supplement_due: dt.date | None
    received_on: dt.date | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One audited event of a case."""

    at: str
    actor: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Filters for listing cases; all optional."""

    state: str | None = None
    states: tuple[str, ...] | None = None
    station: str | None = None
    accepted_on: dt.date | None = None
    applicant_id: str | None = None
    text: str | None = None  # case number or applicant name fragment
    unsynced: bool = False
