"""The tables of the window's service cycle: the queue (v10), 好差评 and 差评整改 (v11) and
identity checks (v12).

They share :data:`~hall_server.storage.schema.METADATA`; kept apart from ``schema.py`` only so
that module stays readable. Timestamps are ISO 8601 text in UTC, days ``YYYY-MM-DD``.
"""

from __future__ import annotations

from sqlalchemy import Index, Table, UniqueConstraint
from sqlmodel import Field

from hall_server.storage.schema import HallModel

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


RATINGS: Table = RatingRow.__table__  # type: ignore[attr-defined]
RECTIFICATIONS: Table = RectificationRow.__table__  # type: ignore[attr-defined]
CASE_IDENTITIES: Table = CaseIdentityRow.__table__  # type: ignore[attr-defined]
QUEUE_TICKETS: Table = QueueTicketRow.__table__  # type: ignore[attr-defined]
QUEUE_WINDOWS: Table = QueueWindowRow.__table__  # type: ignore[attr-defined]

TABLES_V10 = [QUEUE_TICKETS, QUEUE_WINDOWS]
TABLES_V11 = [RATINGS, RECTIFICATIONS]
TABLES_V12 = [CASE_IDENTITIES]
