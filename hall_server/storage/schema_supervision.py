"""The tables of 首办负责人, timeliness supervision (v14) and the hall's reminders (v15).

They share :data:`~hall_server.storage.schema.METADATA`; kept apart from ``schema.py`` only so
that module stays readable. Timestamps are ISO 8601 text in UTC, days ``YYYY-MM-DD``.
"""

from __future__ import annotations

from sqlalchemy import Index, Table
from sqlmodel import Field

from hall_server.storage.schema import HallModel

# ------------------------------------------------------------------ 首办负责人 and timeliness (v14)


class HandlerDefaultRow(HallModel, table=True):
    """The default 首办负责人 of an item or a department (an item's default wins)."""

    __tablename__ = "handler_defaults"

    scope: str = Field(primary_key=True, max_length=16)  # "item" or "department"
    code: str = Field(primary_key=True, max_length=64)
    staff_no: str = Field(max_length=32)
    set_by: str
    set_at: str


class CaseHandlerRow(HallModel, table=True):
    """One assignment of a case's 首办负责人 (kept: the newest one is in force)."""

    __tablename__ = "case_handlers"
    __table_args__ = (Index("ix_case_handlers_case", "case_no", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(max_length=64)
    staff_no: str = Field(max_length=32)
    assigned_by: str
    assigned_at: str


class CaseTimelinessRow(HallModel, table=True):
    """What the hall last told the case's station about its timeliness (``case.timeliness``):
    a change is published only when the due date, the flag, the pause or the handler moves."""

    __tablename__ = "case_timeliness"

    case_no: str = Field(primary_key=True, max_length=64)
    station: str = Field(max_length=32)
    due_date: str | None = Field(default=None, max_length=10)
    flag: str | None = Field(default=None, max_length=8)  # None: the case is no longer open
    paused: bool = False
    handler: str | None = Field(default=None, max_length=32)
    published_at: str


# ------------------------------------------------------------------ the hall's reminders (v15)


class HallNotificationRow(HallModel, table=True):
    """A reminder of the hall's rules (models.notify), keyed by rule + case + due day."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status", "status", "created_at"),
        Index("ix_notifications_case", "case_no"),
    )

    key: str = Field(primary_key=True, max_length=160)
    rule: str = Field(max_length=32)
    case_no: str = Field(max_length=64)
    recipient: str = Field(max_length=64)
    recipient_kind: str = Field(max_length=8)
    text: str
    due_on: str = Field(max_length=10)
    status: str = Field(max_length=8)  # models.notify.Status
    attempts: int = 0
    last_error: str | None = None
    receipt: str | None = None
    sender: str | None = Field(default=None, max_length=8)
    created_at: str
    sent_at: str | None = None


HANDLER_DEFAULTS: Table = HandlerDefaultRow.__table__  # type: ignore[attr-defined]
CASE_HANDLERS: Table = CaseHandlerRow.__table__  # type: ignore[attr-defined]
CASE_TIMELINESS: Table = CaseTimelinessRow.__table__  # type: ignore[attr-defined]
NOTIFICATIONS: Table = HallNotificationRow.__table__  # type: ignore[attr-defined]

TABLES_V14 = [HANDLER_DEFAULTS, CASE_HANDLERS, CASE_TIMELINESS]
TABLES_V15 = [NOTIFICATIONS]
