"""排队叫号 at one station: taking tickets, calling, serving, 过号, 转窗, 暂停服务, the board.

Every write is one local transaction with its audit event and its outbox operation
(``queue.take``, ``queue.event``, ``queue.window``), so a killed client loses no ticket and
duplicates none. Numbers are allocated inside the write lock; the calling rule is the pure
:func:`models.queue.pick_next` (see :mod:`models.queue` for the rule).

The counter (F-keys) and the CLI call the same methods; each returns the ticket as it is after
the step, or raises :class:`~models.problems.DomainError` with a clear reason and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from models.catalog import Acceptable, Catalog, Package
from models.identity import check_phone, normalize_id
from models.problems import DomainError
from models.queue import (
    AT_WINDOW,
    DEFAULT_RULE,
    EVENT_ZH,
    MAX_CASES_PER_VISIT,
    MAX_NUMBER,
    REASON_LIMIT,
    STATE_ZH,
    TEXT_LIMIT,
    CallingRule,
    QueueCategory,
    QueueEvent,
    Ticket,
    TicketState,
    next_state,
    parse_category,
    parse_ticket,
    pick_next,
    queue_day,
    ticket_number,
    valid_window,
)
from models.queue_figures import Board, QueueFigures, figures, times_of
from models.sync import OperationKind, QueueEventPayload, QueueTakePayload, QueueWindowPayload
from models.text import first_unsafe
from offline_cache import Store
from offline_cache import queue_repo as repo
from offline_cache.store import UnitOfWork

# Items whose applicant is an enterprise: 市场监管 and 工程建设 (住建, 自然资源), and any item
# asking for the 营业执照. Everything else queues as 综合.
ENTERPRISE_DEPARTMENTS = frozenset({"SCJG", "ZJ", "ZRZY"})
ENTERPRISE_MATERIAL = "BIZ_LICENSE"
BOARD_NEXT_UP = 5  # waiting tickets the board lists by number


def category_of_item(entry: Acceptable) -> QueueCategory:
    """The queue an applicant asking for ``entry`` joins (企业 or 综合)."""
    items = entry.items if isinstance(entry, Package) else (entry,)
    for item in items:
        if item.department in ENTERPRISE_DEPARTMENTS or any(
            m.code == ENTERPRISE_MATERIAL for m in item.materials
        ):
            return QueueCategory.ENTERPRISE
    return QueueCategory.GENERAL


def _clean_text(raw: str, name: str, limit: int) -> str:
    """A short text field: blanks collapsed; no controls; at most ``limit`` characters."""
    text = " ".join(raw.split())
    if (char := first_unsafe(raw)) is not None:
        raise DomainError.of("field.invalid", field=name, value=char)
    if len(text) > limit:
        raise DomainError.of("field.too_long", field=name, limit=limit)
    return text


def _window(window: str) -> str:
    text = window.strip()
    if not valid_window(text):
        raise DomainError.of("queue.window_invalid", value=(first_unsafe(window) or window)[:20])
    return text


class QueueService:
    """The queue of one station, operated by one staff member (or a kiosk).

    Args:
        store: the station's store.
        station: the station's code.
        actor: who acts (recorded in the audit trail).
        catalog: for tickets taken by item code (``category_of_item``).
        rule: the calling rule (绿色通道 first, within limits).
        clock: the current moment (aware); tests pass a fixed one.
    """

    def __init__(
        self,
        store: Store,
        station: str,
        actor: str,
        catalog: Catalog | None = None,
        rule: CallingRule = DEFAULT_RULE,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.station = station
        self.actor = actor
        self.catalog = catalog
        self.rule = rule
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def today(self) -> dt.date:
        """The station's queue day now (its local date)."""
        return queue_day(self.clock())

    def _now(self) -> dt.datetime:
        """The clock to the millisecond: the store and the outbox keep the same moment."""
        moment = self.clock()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    # ------------------------------------------------------------ taking a ticket

    def resolve_category(self, category_or_item: str) -> tuple[QueueCategory, str | None]:
        """The queue for a category (letter or name) or an item code; (category, item code)."""
        category = parse_category(category_or_item)
        if category is not None:
            return category, None
        code = category_or_item.strip()
        entry = self.catalog.get(code) if self.catalog is not None else None
        if entry is None:
            shown = first_unsafe(category_or_item) or category_or_item.strip()[:40]
            raise DomainError.of("queue.category_unknown", value=shown)
        return category_of_item(entry), entry.code

    def take(self, category_or_item: str, phone: str = "", appointment: str = "") -> Ticket:
        """A new ticket (取号). An appointment reference puts it in the ``V`` queue."""
        category, item_code = self.resolve_category(category_or_item)
        if len(phone) > TEXT_LIMIT:
            raise DomainError.of("field.too_long", field="phone", limit=TEXT_LIMIT)
        if (problem := check_phone(phone)) is not None:
            raise DomainError(problem)
        reference = _clean_text(appointment, "appointment", TEXT_LIMIT) or None
        if reference is not None:
            category = QueueCategory.PRIORITY
        now = self._now()
        day = queue_day(now)
        with self.store.transaction(self.actor) as unit:
            number = repo.allocate_number(unit, self.station, day, category)
            if number > MAX_NUMBER:
                raise DomainError.of("queue.sequence_exhausted", category=category.value, limit=MAX_NUMBER)
            ticket = Ticket(
                self.station, day, ticket_number(category, number), number, category,
                TicketState.WAITING, now, now, phone=normalize_id(phone) or None,
                appointment=reference, item_code=item_code,
            )  # fmt: skip
            repo.insert_ticket(unit, ticket)
            unit.audit(
                "queue.take",
                f"queue/{day}/{ticket.ticket}",
                {"category": category.value, "appointment": reference, "item": item_code},
            )
            payload = QueueTakePayload(
                ticket=ticket.ticket, day=day, category=category.value, taken_at=now,
                appointment=reference, item_code=item_code,
            )  # fmt: skip
            unit.enqueue(OperationKind.QUEUE_TAKE.value, None, payload.to_payload())
        return ticket

    # ------------------------------------------------------------ at the counter

    def call_next(self, window: str, categories: Collection[QueueCategory] | None = None) -> Ticket | None:
        """Call the next ticket to ``window`` (叫号); None when nobody waits for it.

        Refused while the window is paused or still holds a ticket (finish, skip or transfer it).
        """
        window = _window(window)
        now = self._now()
        day = queue_day(now)
        with self.store.transaction(self.actor) as unit:
            paused, reason = repo.windows(unit.conn, self.station).get(window, (False, None))
            if paused:
                raise DomainError.of("queue.window_paused", window=window, reason=reason or "")
            held = repo.at_window(unit.conn, self.station, day, window)
            if held is not None:
                raise DomainError.of("queue.window_busy", window=window, ticket=held.ticket)
            streak = repo.priority_streak(unit.conn, self.station, day, window, self.rule.max_priority_in_row)
            waiting = repo.waiting_tickets(unit.conn, self.station, day)
            chosen = pick_next(waiting, window, now, streak, self.rule, categories)
            if chosen is None:
                return None
            ticket = repo.get_ticket(unit.conn, self.station, day, chosen.ticket)
            assert ticket is not None
            changes = {
                "window": window,
                "target_window": None,
                "called_at": ticket.called_at or now,
                "last_called_at": now,
                "calls": ticket.calls + 1,
                "call_no": repo.next_call_no(unit, self.station, day),
            }
            return self._step(unit, ticket, QueueEvent.CALL, window, now, changes)

    def recall(self, ticket: str, window: str) -> Ticket:
        """Call the window's ticket again (重呼)."""
        return self._at_window(ticket, window, QueueEvent.RECALL, lambda t, now: {
            "last_called_at": now, "calls": t.calls + 1,
        })  # fmt: skip

    def start(self, ticket: str, window: str) -> Ticket:
        """The applicant came to the window: service starts (开始办理)."""
        return self._at_window(ticket, window, QueueEvent.START, lambda t, now: {"started_at": now})

    def skip(self, ticket: str, window: str) -> Ticket:
        """The applicant did not come (过号); :meth:`requeue` puts the ticket back later."""
        return self._at_window(ticket, window, QueueEvent.SKIP, lambda t, now: {})

    def requeue(self, ticket: str) -> Ticket:
        """A skipped ticket joins the queue again, at its end (过号重排)."""
        now = self._now()
        with self.store.transaction(self.actor) as unit:
            found = self._find(unit, ticket, queue_day(now))
            return self._step(unit, found, QueueEvent.REQUEUE, None, now, {"queued_at": now})

    def transfer(
        self,
        ticket: str,
        window: str,
        to_window: str | None = None,
        to_category: QueueCategory | str | None = None,
    ) -> Ticket:
        """Send the window's ticket to another window and/or queue (转窗). It waits again in its
        place of the queue: a window it is sent to calls it before anyone else."""
        target = _window(to_window) if to_window else None
        category = None
        if to_category is not None:
            category = parse_category(str(to_category))
            if category is None:
                raise DomainError.of("queue.category_unknown", value=str(to_category)[:40])
        if target is None and category is None:
            raise DomainError.of("queue.transfer_target")

        def changes(found: Ticket, now: dt.datetime) -> dict[str, Any]:
            if target in (None, window) and category in (None, found.category):
                raise DomainError.of("queue.transfer_target")
            return {"target_window": target, "category": category or found.category}

        extra = {"target_window": target, "category": category.value if category else None}
        return self._at_window(ticket, window, QueueEvent.TRANSFER, changes, extra)

    def finish(self, ticket: str, window: str, cases: Sequence[str] = ()) -> Ticket:
        """办结: the visit ends with the cases it produced (several for 一件事, none for 咨询)."""
        numbers = list(dict.fromkeys(c.strip() for c in cases if c.strip()))
        if len(numbers) > MAX_CASES_PER_VISIT:
            raise DomainError.of("queue.too_many_cases", limit=MAX_CASES_PER_VISIT)
        if numbers:
            with self.store.reading() as conn:
                marks = ", ".join("?" * len(numbers))
                known = {
                    str(no)
                    for (no,) in conn.exec_driver_sql(
                        f"SELECT case_no FROM cases WHERE station = ? AND case_no IN ({marks})",
                        (self.station, *numbers),
                    )
                }
            for number in numbers:
                if number not in known:
                    raise DomainError.of("case.unknown", case_no=first_unsafe(number) or number[:64])
        return self._at_window(
            ticket,
            window,
            QueueEvent.FINISH,
            lambda t, now: {"finished_at": now, "cases": numbers},
            {"cases": numbers},
        )

    def pause(self, window: str, reason: str) -> tuple[bool, str | None]:
        """暂停服务 with a reason; the window calls nobody until :meth:`resume`."""
        text = _clean_text(reason, "reason", REASON_LIMIT)
        if not text:
            raise DomainError.of("queue.reason_required")
        return self._set_window(_window(window), True, text)

    def resume(self, window: str) -> tuple[bool, str | None]:
        """恢复服务 after a pause."""
        window = _window(window)
        if not self.window_state(window)[0]:
            raise DomainError.of("queue.not_paused", window=window)
        return self._set_window(window, False, None)

    def _set_window(self, window: str, paused: bool, reason: str | None) -> tuple[bool, str | None]:
        now = self._now()
        with self.store.transaction(self.actor) as unit:
            repo.set_window(unit, self.station, window, paused, reason, now)
            unit.audit("queue.pause" if paused else "queue.resume", f"window/{window}", {"reason": reason})
            payload = QueueWindowPayload(window=window, paused=paused, reason=reason, at=now)
            unit.enqueue(OperationKind.QUEUE_WINDOW.value, None, payload.to_payload())
        return paused, reason

    # ------------------------------------------------------------ the state machine, written

    def _find(self, unit: UnitOfWork, ticket: str, day: dt.date) -> Ticket:
        parsed = parse_ticket(ticket)
        found = None
        if parsed is not None:
            found = repo.get_ticket(unit.conn, self.station, day, ticket_number(*parsed))
        if found is None:
            raise DomainError.of("queue.ticket_unknown", ticket=first_unsafe(ticket) or ticket[:20], day=day)
        return found

    def _at_window(
        self,
        ticket: str,
        window: str,
        event: QueueEvent,
        changes: Callable[[Ticket, dt.datetime], dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> Ticket:
        """An event on the ticket a window holds (it must be that window's)."""
        window = _window(window)
        now = self._now()
        with self.store.transaction(self.actor) as unit:
            found = self._find(unit, ticket, queue_day(now))
            if found.state in AT_WINDOW and found.window != window:
                raise DomainError.of(
                    "queue.not_your_window", ticket=found.ticket, holder=found.window, window=window
                )
            self._check(found, event)
            return self._step(unit, found, event, window, now, changes(found, now), extra)

    @staticmethod
    def _check(ticket: Ticket, event: QueueEvent) -> TicketState:
        after = next_state(ticket.state, event)
        if after is None:
            raise DomainError.of(
                "queue.illegal_transition",
                ticket=ticket.ticket,
                state=STATE_ZH[ticket.state],
                event=EVENT_ZH[event],
                state_code=ticket.state.value,
                event_code=event.value,
            )
        return after

    def _step(
        self,
        unit: UnitOfWork,
        ticket: Ticket,
        event: QueueEvent,
        window: str | None,
        now: dt.datetime,
        changes: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> Ticket:
        """Write one event: the ticket's new columns, its audit event and its outbox operation."""
        after = self._check(ticket, event)
        repo.update_ticket(unit, ticket, {"state": after, **changes})
        unit.audit(
            f"queue.{event.value}",
            f"queue/{ticket.day}/{ticket.ticket}",
            {"from": ticket.state.value, "to": after.value, "window": window, **(extra or {})},
        )
        payload = QueueEventPayload(
            ticket=ticket.ticket, day=ticket.day, event=event.value, from_state=ticket.state.value,
            to_state=after.value, window=window, at=now, **(extra or {}),
        )  # fmt: skip
        unit.enqueue(OperationKind.QUEUE_EVENT.value, None, payload.to_payload())
        updated = repo.get_ticket(unit.conn, ticket.station, ticket.day, ticket.ticket)
        assert updated is not None
        return updated

    # ------------------------------------------------------------ reading

    def get(self, ticket: str, day: dt.date | None = None) -> Ticket:
        """One ticket of ``day`` (today by default), or ``queue.ticket_unknown``."""
        with self.store.reading() as conn:
            parsed = parse_ticket(ticket)
            when = day or self.today()
            found = repo.get_ticket(conn, self.station, when, ticket_number(*parsed)) if parsed else None
        if found is None:
            raise DomainError.of("queue.ticket_unknown", ticket=first_unsafe(ticket) or ticket[:20], day=when)
        return found

    def current(self, window: str) -> Ticket | None:
        """The ticket ``window`` holds now (called or serving), if any."""
        with self.store.reading() as conn:
            return repo.at_window(conn, self.station, self.today(), _window(window))

    def tickets(
        self, day: dt.date | None = None, states: Sequence[TicketState] | None = None
    ) -> list[Ticket]:
        """The tickets of ``day`` (today by default), in the order they were taken."""
        with self.store.reading() as conn:
            return repo.tickets_of_day(conn, self.station, day or self.today(), states)

    def window_state(self, window: str) -> tuple[bool, str | None]:
        """(paused, reason) of a window."""
        with self.store.reading() as conn:
            return repo.windows(conn, self.station).get(_window(window), (False, None))

    def board(self, day: dt.date | None = None, next_up: int = BOARD_NEXT_UP) -> Board:
        """The calling board: every window's ticket or pause, and the waiting counts (one snapshot)."""
        with self.store.reading() as conn:
            return repo.board(conn, self.station, day or self.today(), next_up)

    def figures(self, day: dt.date) -> list[QueueFigures]:
        """The day's figures per window and category (the 日结's queue section)."""
        return figures(times_of(t) for t in self.tickets(day))
