"""What each kind of operation carries: the typed payloads of the outbox (DESIGN.md §4).

The counter builds its outbox bodies with these models (:meth:`Payload.to_payload` gives the
dict it stores as canonical JSON) and the hall reads the same fields. On the wire a payload is
still a JSON object (:attr:`models.sync.Operation.payload`): the hall must keep an operation
whose payload is wrong and answer it ``refused`` (``op.invalid``, naming the field), never turn
a whole batch into a 422, so it checks the fields itself (``hall_server.domain.rules``,
``models.acceptance.check_accept``) and the models stay lenient: keys they do not declare
(written by older or newer counters) pass through.

Fields a counter writes only when they apply (``approval``, the identity check and 帮办代办
mark of a case, the details of a transition) are left out of :meth:`Payload.to_payload` when
unset, so the bodies stay byte for byte what the counter has always stored (their hash is the
idempotency check, :func:`models.sync.body_hash`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from models.enums import CaseState
from models.identity_check import PAYLOAD_FIELDS as IDENTITY_FIELDS
from models.state_machine import CaseEvent
from models.sync.protocol import OperationKind


class Payload(BaseModel):
    """Base of the typed payloads: lenient (extra keys kept), written by field alias."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    # Fields written only when set (the counter adds them only when they apply).
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_payload(self) -> dict[str, Any]:
        """The JSON object the counter stores in its outbox (dates as ISO text)."""
        unset = {name for name in self.OPTIONAL if getattr(self, name) is None}
        return self.model_dump(mode="json", by_alias=True, exclude=unset)


class AcceptPayload(Payload):
    """``case.accept``: a new case, with every fact the hall records and re-checks."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"approval", *IDENTITY_FIELDS})

    case_no: str
    station: str
    window: str
    clerk: str
    channel: str
    item_code: str
    applicant_type: str
    applicant_id: str
    applicant_name: str
    agent_id: str | None
    state: CaseState  # accepted, accepted_tolerated or not_accepted
    verdict: str
    approved_by: str | None  # a name only: the hall believes the signed ``approval``
    accepted_on: dt.date
    due_date: dt.date | None
    supplement_due: dt.date | None
    materials: list[tuple[str, str]]  # (material code, presented/missing/…)
    approval: dict[str, Any] | None = None  # a supervisor's signed case.tolerate approval
    # How identity was checked (models.identity_check; absent from counters older than it).
    identity_method: str | None = None  # id_card / e_id / face / agent
    identity_slip: str | None = None  # face: the 身份核验单 number, HY-<case_no>
    power_of_attorney: bool | None = None  # agent: the 授权委托书 was presented
    assisted: bool | None = None  # 帮办代办 (written only when true)


class TransitionPayload(Payload):
    """``case.transition``: one event of the state machine on an existing case."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset(
        {
            "on",
            "reason",
            "approved_by",
            "approval",
            "received",
            "at_counter",
            "certificates",
            "signing_key",
            "handover",
        }
    )

    case_no: str
    event: CaseEvent
    # "from" is a Python keyword: the fields have their own names and the wire's as aliases.
    from_state: CaseState = Field(validation_alias="from", serialization_alias="from")
    to_state: CaseState = Field(validation_alias="to", serialization_alias="to")
    by: str  # who made it at the counter (the hall records who pushed it)
    on: dt.date | None = None  # the counter's day
    reason: str | None = None  # a problem code or the staff's words (终止, 撤回, 不予许可)
    approved_by: str | None = None  # a name only: the hall believes the signed ``approval``
    approval: dict[str, Any] | None = None  # a supervisor's signed approval (终止)
    received: list[str] | None = None  # the materials a full 补正 brought
    at_counter: bool | None = None  # a 即办件 finished at the counter
    # issue_certificate: the sealed certificates (records); deliver: the other identifiers handed over
    certificates: list[dict[str, Any]] | list[str] | None = None
    signing_key: dict[str, Any] | None = None  # the key that sealed them
    handover: dict[str, Any] | None = None  # deliver: who received the certificates


class PartialSupplementPayload(Payload):
    """``case.partial_supplement``: some 补正 materials came; the case stays 容缺受理."""

    case_no: str
    received: list[str]
    on: dt.date
    by: str


class RatingPayload(Payload):
    """``rating.record``: the applicant's 好差评 of a case through one channel (no state change).

    The hall checks it with :func:`models.rating.check_rating` and takes the case's window,
    clerk and item from its own record of the case, not from here.
    """

    case_no: str
    channel: str  # models.rating.RatingChannel: "pad" or "code"
    level: int | None  # 5 非常满意 … 1 非常不满意; None: declined (未评价)
    reasons: list[str]  # models.rating.Reason codes, for a level of 2 or 1 only
    text: str | None  # the applicant's own words (printable, at most models.rating.TEXT_LIMIT)
    on: dt.date  # the counter's day
    by: str  # the staff member at the counter when it was recorded


class QueueTakePayload(Payload):
    """``queue.take``: a ticket taken at this station (the station is the pusher's, never a field).

    The applicant's phone stays on the station: the hall needs the queue, not who is in it.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"appointment", "item_code"})

    ticket: str  # A001: the category's letter and the day's number
    day: dt.date  # the station's day (China time)
    category: str  # the queue it joins (the ticket's letter)
    taken_at: dt.datetime
    appointment: str | None = None  # 预约 reference
    item_code: str | None = None  # the item asked for at the kiosk, when one was


class QueueEventPayload(Payload):
    """``queue.event``: one event of a ticket's state machine (:data:`models.queue.TRANSITIONS`)."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"category", "target_window", "cases"})

    ticket: str
    day: dt.date
    event: str
    from_state: str = Field(validation_alias="from", serialization_alias="from")
    to_state: str = Field(validation_alias="to", serialization_alias="to")
    window: str | None  # the window acting (None for a re-queue from the hall floor)
    at: dt.datetime
    category: str | None = None  # transfer: the queue it moves to
    target_window: str | None = None  # transfer: the window it is sent to
    cases: list[str] | None = None  # finish: the cases the visit produced (none: 咨询)


class QueueWindowPayload(Payload):
    """``queue.window``: a window paused (暂停服务) with its reason, or resumed."""

    window: str
    paused: bool
    reason: str | None
    at: dt.datetime


PAYLOADS: dict[OperationKind, type[Payload]] = {
    OperationKind.CASE_ACCEPT: AcceptPayload,
    OperationKind.CASE_TRANSITION: TransitionPayload,
    OperationKind.CASE_PARTIAL_SUPPLEMENT: PartialSupplementPayload,
    OperationKind.RATING_RECORD: RatingPayload,
    OperationKind.QUEUE_TAKE: QueueTakePayload,
    OperationKind.QUEUE_EVENT: QueueEventPayload,
    OperationKind.QUEUE_WINDOW: QueueWindowPayload,
}


def payload_model(kind: OperationKind | str) -> type[Payload]:
    """The payload model of an operation kind (``ValueError`` for an unknown kind)."""
    return PAYLOADS[OperationKind(kind)]
