"""The hall's side of 排队叫号: folding the stations' queue operations, the board and the report.

A station's queue operations come from one store in its outbox order, so their fold is a
chain: each ``queue.event`` must start from the state the hall holds for the ticket
(``queue.illegal_transition`` otherwise, with the hall's state in the reason). Exactly-once
comes from the push itself (a repeated ``op_id`` is answered with its first result, see
:mod:`hall_server.services.batch`). The station is the pusher's; the back office takes no
tickets. Unknown tickets, a number taken twice, escape sequences in any text, a window that does
not hold the ticket, cases that are not the station's: refused with a reason, nothing changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain import queue_rules as rules
from hall_server.domain.auth import Principal
from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from hall_server.domain.textcheck import check_text
from hall_server.storage import CaseRecord, read_transaction
from hall_server.storage import queue as queue_storage
from models.queue import QueueCategory, QueueEvent, TicketState
from models.queue_figures import Board, QueueFigures, TicketTimes, WindowStatus, figures
from models.sync import OperationKind

QUEUE_KINDS = frozenset({OperationKind.QUEUE_TAKE, OperationKind.QUEUE_EVENT, OperationKind.QUEUE_WINDOW})
BOARD_NEXT_UP = 5
_HELD = frozenset({TicketState.CALLED.value, TicketState.SERVING.value})


class QueueApplier:
    """Applies a batch's queue operations inside its write transaction (see ``BatchApplier``).

    ``cases``: the batch's cases by number (stored ones it named, and those it accepted), shared
    with the batch so that a visit's 办结 may name a case accepted earlier in the same push.
    """

    def __init__(
        self, conn: Connection, principal: Principal, received: str, cases: dict[str, CaseRecord]
    ) -> None:
        self.conn = conn
        self.principal = principal
        self.received = received
        self.cases = cases
        self.tickets: dict[tuple[str, str], dict[str, Any]] = {}
        self.inserted: set[tuple[str, str]] = set()
        self.changed: set[tuple[str, str]] = set()
        self.windows: dict[str, dict[str, Any]] | None = None
        self.windows_changed: set[str] = set()
        self.stored_windows: set[str] = set()
        self.held_loaded: set[str] = set()  # days whose tickets held by windows were read

    def prefetch(self, operations: Sequence[Incoming]) -> None:
        """Read the stored tickets the batch's queue operations name (one query)."""
        keys = set()
        for op in operations:
            if op.kind in QUEUE_KINDS and op.kind is not OperationKind.QUEUE_WINDOW:
                day, ticket = op.payload.get("day"), op.payload.get("ticket")
                if isinstance(day, str) and isinstance(ticket, str) and "\x00" not in day + ticket:
                    keys.add((day, ticket))
        if keys and not self.principal.back_office:
            self.tickets.update(queue_storage.tickets_by_key(self.conn, self.principal.station, keys))

    def apply(self, op: Incoming, row: dict[str, Any]) -> str | None:
        """Check and apply one queue operation (raises :class:`Refusal`); the ticket's state after
        it (None for a window's pause or resume)."""
        check_text(op, row)
        if self.principal.back_office:
            why = "后台不能操作排队号票"
            raise Refusal("auth.forbidden", why=why, why_en="the back office takes no tickets")
        if op.kind is OperationKind.QUEUE_TAKE:
            return self._take(op)
        if op.kind is OperationKind.QUEUE_EVENT:
            return self._event(op)
        self._window(op)
        return None

    def _take(self, op: Incoming) -> str:
        new = rules.new_ticket(op.payload, self.principal.station, op.op_id, self.received)
        key = (new["day"], new["ticket"])
        if key in self.tickets:
            raise Refusal("queue.ticket_exists", ticket=new["ticket"], day=new["day"])
        self.tickets[key] = new
        self.inserted.add(key)
        return str(new["state"])

    def _event(self, op: Incoming) -> str:
        key = rules.ticket_key(op.payload)
        ticket = self.tickets.get(key)
        if ticket is None:
            raise Refusal("queue.ticket_unknown", ticket=key[1], day=key[0])
        step = rules.event_step(op.payload, ticket)
        if step.event is QueueEvent.CALL:
            self._check_call(key, ticket, step.window or "")
        if step.cases:
            self._check_cases(step.cases)
        changes: dict[str, Any] = {"state": step.to_state.value, "updated_at": self.received}
        at = rules.iso_utc(step.at)
        if step.event is QueueEvent.CALL:
            changes.update(window=step.window, target_window=None, calls=ticket["calls"] + 1)
            changes["called_at"] = ticket["called_at"] or at
        elif step.event is QueueEvent.RECALL:
            changes["calls"] = ticket["calls"] + 1
        elif step.event is QueueEvent.REQUEUE:
            changes["queued_at"] = at
        elif step.event is QueueEvent.START:
            changes["started_at"] = at
        elif step.event is QueueEvent.TRANSFER:
            changes.update(target_window=step.target_window, category=step.category or ticket["category"])
        elif step.event is QueueEvent.FINISH:
            changes.update(finished_at=at, cases=json.dumps(list(step.cases), ensure_ascii=False))
        ticket.update(changes)
        if key not in self.inserted:
            self.changed.add(key)
        return str(ticket["state"])

    def _check_call(self, key: tuple[str, str], ticket: dict[str, Any], window: str) -> None:
        """A call: the window is not paused and holds no other ticket; a ticket sent (转窗) to a
        window is called by that window only."""
        target = ticket["target_window"]
        if target not in (None, window):
            raise Refusal("queue.not_your_window", ticket=key[1], holder=target, window=window)
        paused = self._windows().get(window)
        if paused is not None and paused["paused"]:
            raise Refusal("queue.window_paused", window=window, reason=paused["reason"] or "")
        day = key[0]
        if day not in self.held_loaded:
            for row in queue_storage.held_tickets(self.conn, self.principal.station, day):
                self.tickets.setdefault((day, row["ticket"]), row)
            self.held_loaded.add(day)
        for (other_day, number), row in self.tickets.items():
            if other_day == day and number != key[1] and row["window"] == window and row["state"] in _HELD:
                raise Refusal("queue.window_busy", window=window, ticket=number)

    def _check_cases(self, case_nos: Sequence[str]) -> None:
        missing = sorted(set(case_nos) - set(self.cases))
        if missing:
            self.cases.update(storage.cases_by_no(self.conn, missing))
        for case_no in case_nos:
            case = self.cases.get(case_no)
            if case is None:
                raise Refusal("case.unknown", case_no=case_no)
            if case.station != self.principal.station:
                raise Refusal(
                    "auth.forbidden",
                    why=f"办件{case_no}不是本站点受理的",
                    why_en=f"case {case_no} belongs to station {case.station}",
                )

    def _window(self, op: Incoming) -> None:
        window, paused, reason, at = rules.window_change(op.payload)
        self._windows()[window] = {
            "station": self.principal.station,
            "window": window,
            "paused": paused,
            "reason": reason,
            "since": rules.iso_utc(at),
            "updated_at": self.received,
        }
        self.windows_changed.add(window)

    def _windows(self) -> dict[str, dict[str, Any]]:
        """The station's windows as stored, with this batch's pauses (read once)."""
        if self.windows is None:
            self.windows = queue_storage.windows_of(self.conn, self.principal.station)
            self.stored_windows = set(self.windows)
        return self.windows

    def write(self) -> None:
        """Write what the batch changed."""
        queue_storage.insert_tickets(self.conn, [self.tickets[key] for key in sorted(self.inserted)])
        queue_storage.update_tickets(self.conn, [self.tickets[key] for key in sorted(self.changed)])
        if self.windows is not None and self.windows_changed:
            rows = [self.windows[w] for w in sorted(self.windows_changed)]
            queue_storage.save_windows(self.conn, rows, self.stored_windows)


# ------------------------------------------------------------------ reading


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _times(row: dict[str, Any]) -> TicketTimes:
    taken = _moment(row["taken_at"])
    assert taken is not None
    return TicketTimes(
        QueueCategory(row["category"]),
        TicketState(row["state"]),
        taken,
        _moment(row["called_at"]),
        _moment(row["started_at"]),
        _moment(row["finished_at"]),
        row["window"] or "",
        row["station"],
    )


def report(engine: Engine, day: dt.date, station: str | None = None) -> list[QueueFigures]:
    """The day's figures per station, window and category (all stations when ``station`` is None)."""
    with read_transaction(engine) as conn:
        rows = queue_storage.tickets_of_day(conn, day.isoformat(), station)
    return figures(_times(row) for row in rows)


def board(engine: Engine, station: str, day: dt.date, next_up: int = BOARD_NEXT_UP) -> Board:
    """The station's calling board as the hall has it (what the station pushed so far)."""
    with read_transaction(engine) as conn:
        rows = queue_storage.tickets_of_day(conn, day.isoformat(), station)
        paused = queue_storage.windows_of(conn, station)
    statuses = {
        w: WindowStatus(w, paused=True, reason=row["reason"]) for w, row in paused.items() if row["paused"]
    }
    waiting = dict.fromkeys(QueueCategory, 0)
    queue: list[tuple[str, str]] = []
    for row in rows:
        state = TicketState(row["state"])
        if state is TicketState.WAITING:
            waiting[QueueCategory(row["category"])] += 1
            queue.append((row["queued_at"], row["ticket"]))
        elif state in (TicketState.CALLED, TicketState.SERVING) and row["window"]:
            pause = statuses.get(row["window"])
            statuses[row["window"]] = WindowStatus(
                row["window"], row["ticket"], QueueCategory(row["category"]), state,
                paused=pause is not None, reason=pause.reason if pause else None,
            )  # fmt: skip
    first = tuple(ticket for _, ticket in sorted(queue)[:next_up])
    return Board(station, day, tuple(statuses[w] for w in sorted(statuses)), waiting, first, source="hall")
