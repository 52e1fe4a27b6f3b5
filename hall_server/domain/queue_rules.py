"""The checks a pushed queue operation (排队叫号) must pass: its fields, and the claims the hall
can check against what it holds (the ticket exists at the pusher's station, it is in the state
the operation starts from, it is at the window that acts, the cases of a visit are the station's).

Each check raises :class:`~hall_server.domain.rules.Refusal` with a code of
:data:`models.problems.MESSAGES` and its Chinese reason. The station is always the pusher's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hall_server.domain.rules import Refusal
from models.queue import (
    AT_WINDOW,
    EVENT_ZH,
    MAX_CASES_PER_VISIT,
    REASON_LIMIT,
    STATE_ZH,
    TEXT_LIMIT,
    TRANSITIONS,
    QueueCategory,
    QueueEvent,
    TicketState,
    parse_moment,
    parse_ticket,
    valid_window,
)

_EVENTS = {event.value: event for event in QueueEvent}
_STATES = {state.value: state for state in TicketState}
_CATEGORIES = {category.value: category for category in QueueCategory}


def iso_utc(moment: dt.datetime) -> str:
    """How the hall stores a station's moment (UTC, microseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _invalid(name: str) -> Refusal:
    return Refusal("op.invalid", field=name)


def ticket_key(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(day, ticket) of a queue operation, both checked for shape."""
    ticket, day = payload.get("ticket"), payload.get("day")
    if not isinstance(ticket, str) or parse_ticket(ticket) is None or ticket != ticket.strip().upper():
        raise _invalid("ticket")
    if not isinstance(day, str) or len(day) != 10:
        raise _invalid("day")
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise _invalid("day") from None
    return day, ticket


def moment(payload: Mapping[str, Any], name: str) -> dt.datetime:
    """A timestamp field (ISO 8601 with a time zone)."""
    value = parse_moment(payload.get(name))
    if value is None:
        raise _invalid(name)
    return value


def _optional_text(payload: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _invalid(name)
    return value


def window_of(payload: Mapping[str, Any], name: str = "window", required: bool = True) -> str | None:
    """A window's name (1–8 letters or digits)."""
    value = payload.get(name)
    if value is None and not required:
        return None
    if not valid_window(value):
        raise Refusal("queue.window_invalid", value=str(value)[:20])
    assert isinstance(value, str)
    return value


def new_ticket(payload: Mapping[str, Any], station: str, op_id: str, received: str) -> dict[str, Any]:
    """The ``queue_tickets`` row a ``queue.take`` creates (the caller checks the number is free)."""
    day, ticket = ticket_key(payload)
    parsed = parse_ticket(ticket)
    assert parsed is not None
    if payload.get("category") != parsed[0].value:
        raise _invalid("category")
    taken_at = moment(payload, "taken_at")
    if abs((dt.date.fromisoformat(day) - taken_at.astimezone(dt.UTC).date()).days) > 1:
        raise _invalid("day")  # the taking moment's local date, wherever the station is
    return {
        "station": station,
        "day": day,
        "ticket": ticket,
        "category": parsed[0].value,
        "state": TicketState.WAITING.value,
        "window": None,
        "target_window": None,
        "appointment": _optional_text(payload, "appointment", TEXT_LIMIT),
        "item_code": _optional_text(payload, "item_code", TEXT_LIMIT),
        "taken_at": iso_utc(taken_at),
        "queued_at": iso_utc(taken_at),
        "called_at": None,
        "started_at": None,
        "finished_at": None,
        "calls": 0,
        "cases": "[]",
        "take_op_id": op_id,
        "received_at": received,
        "updated_at": received,
    }


@dataclass(frozen=True, slots=True)
class QueueStep:
    """A checked ``queue.event``: what it does to the ticket."""

    event: QueueEvent
    to_state: TicketState
    window: str | None
    at: dt.datetime
    category: str | None = None  # transfer
    target_window: str | None = None  # transfer
    cases: tuple[str, ...] = ()  # finish


def event_step(payload: Mapping[str, Any], ticket: Mapping[str, Any]) -> QueueStep:
    """Check a ``queue.event`` against the stored ``ticket`` (its row); raises :class:`Refusal`."""
    event = _EVENTS.get(payload.get("event"))  # type: ignore[arg-type]
    if event is None:
        raise _invalid("event")
    from_state = _STATES.get(payload.get("from"))  # type: ignore[arg-type]
    if from_state is None:
        raise _invalid("from")
    current = TicketState(ticket["state"])
    after = TRANSITIONS.get((current, event))
    if from_state is not current or after is None or payload.get("to") != after.value:
        raise Refusal(
            "queue.illegal_transition",
            ticket=ticket["ticket"],
            state=STATE_ZH[current],
            event=EVENT_ZH[event],
            state_code=current.value,
            event_code=event.value,
        )
    window = window_of(payload, required=event is not QueueEvent.REQUEUE)
    if current in AT_WINDOW and window != ticket["window"]:
        holder = ticket["window"]
        raise Refusal("queue.not_your_window", ticket=ticket["ticket"], holder=holder, window=window)
    at = moment(payload, "at")
    if event is QueueEvent.TRANSFER:
        return _transfer(payload, ticket, window, at)
    if event is QueueEvent.FINISH:
        return QueueStep(event, after, window, at, cases=_cases(payload))
    return QueueStep(event, after, window, at)


def _transfer(
    payload: Mapping[str, Any], ticket: Mapping[str, Any], window: str | None, at: dt.datetime
) -> QueueStep:
    category = payload.get("category")
    if category is not None and category not in _CATEGORIES:
        raise _invalid("category")
    target = window_of(payload, "target_window", required=False)
    if target in (None, window) and category in (None, ticket["category"]):
        raise Refusal("queue.transfer_target")
    return QueueStep(QueueEvent.TRANSFER, TicketState.WAITING, window, at, category, target)


def _cases(payload: Mapping[str, Any]) -> tuple[str, ...]:
    cases = payload.get("cases")
    if cases is None:
        return ()
    if not isinstance(cases, list) or not all(isinstance(c, str) and c for c in cases):
        raise _invalid("cases")
    if len(cases) > MAX_CASES_PER_VISIT:
        raise Refusal("queue.too_many_cases", limit=MAX_CASES_PER_VISIT)
    return tuple(dict.fromkeys(cases))


def window_change(payload: Mapping[str, Any]) -> tuple[str, bool, str | None, dt.datetime]:
    """A checked ``queue.window``: (window, paused, reason, at)."""
    window = window_of(payload)
    assert window is not None
    paused = payload.get("paused")
    if not isinstance(paused, bool):
        raise _invalid("paused")
    reason = payload.get("reason")
    if paused:
        if not isinstance(reason, str) or not reason.strip():
            raise Refusal("queue.reason_required")
        if len(reason) > REASON_LIMIT:
            raise _invalid("reason")
    elif reason is not None:
        raise _invalid("reason")
    return window, paused, reason, moment(payload, "at")
