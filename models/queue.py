"""排队叫号: queue tickets, their state machine, the calling rule and the day's figures.

Pure rules, no I/O: the counter's store (``offline_cache.queue_repo``), the hall's fold
(``hall_server.services.queue``) and the day close all use them.

**Numbers** are per station, day and category: ``A001`` 综合, ``B001`` 企业, ``V001``
预约/绿色通道 (appointments, the elderly, the disabled). The day is the station's local date.

**States**: ``waiting`` → ``called`` (叫号; 重呼 keeps it called) → ``serving`` (开始办理) →
``done`` (办结, with the case numbers the visit produced: several for 一件事, none for 咨询).
A no-show is ``skipped`` (过号) and may be re-queued later (``requeue`` → ``waiting``). 转窗
sends a called or serving ticket back to ``waiting`` for another window or category.

**The calling rule** (:func:`pick_next`), in order:

1. a ticket transferred to this window (转窗) comes first, the earliest transferred first; a
   ticket transferred to another window is never called here;
2. otherwise, among the categories the window serves (all by default), ``V`` comes first —
   unless this window's last :attr:`CallingRule.max_priority_in_row` calls were all ``V`` and
   the longest-waiting ``A``/``B`` ticket has waited at least :attr:`CallingRule.max_wait`:
   then that ticket is called (so 绿色通道 goes first without starving the hall);
3. ``A`` and ``B`` are called in the order they joined the queue (the time they were taken or
   re-queued, then the number).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

CHINA = dt.timezone(dt.timedelta(hours=8))  # the hall's default day for its board and report


class QueueCategory(StrEnum):
    """The queues of a hall, by the letter of their numbers."""

    GENERAL = "A"  # 综合
    ENTERPRISE = "B"  # 企业
    PRIORITY = "V"  # 预约/绿色通道


CATEGORY_ZH: dict[QueueCategory, str] = {
    QueueCategory.GENERAL: "综合",
    QueueCategory.ENTERPRISE: "企业",
    QueueCategory.PRIORITY: "预约/绿色通道",
}
# Words a kiosk, a script or a clerk may use for a category (besides its letter).
CATEGORY_WORDS: dict[str, QueueCategory] = {
    "综合": QueueCategory.GENERAL,
    "general": QueueCategory.GENERAL,
    "企业": QueueCategory.ENTERPRISE,
    "enterprise": QueueCategory.ENTERPRISE,
    "预约": QueueCategory.PRIORITY,
    "绿色通道": QueueCategory.PRIORITY,
    "预约/绿色通道": QueueCategory.PRIORITY,
    "priority": QueueCategory.PRIORITY,
    "appointment": QueueCategory.PRIORITY,
}


class TicketState(StrEnum):
    """Where a ticket is (the ``state`` of ``window-client queue list --json``)."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    SKIPPED = "skipped"


STATE_ZH: dict[TicketState, str] = {
    TicketState.WAITING: "等候",
    TicketState.CALLED: "已叫号",
    TicketState.SERVING: "办理中",
    TicketState.DONE: "已办结",
    TicketState.SKIPPED: "过号",
}


class QueueEvent(StrEnum):
    """What the counter does to a ticket."""

    CALL = "call"  # 叫号
    RECALL = "recall"  # 重呼
    START = "start"  # 开始办理
    SKIP = "skip"  # 过号
    REQUEUE = "requeue"  # 过号重排
    TRANSFER = "transfer"  # 转窗
    FINISH = "finish"  # 办结


EVENT_ZH: dict[QueueEvent, str] = {
    QueueEvent.CALL: "叫号",
    QueueEvent.RECALL: "重呼",
    QueueEvent.START: "开始办理",
    QueueEvent.SKIP: "过号",
    QueueEvent.REQUEUE: "重新排队",
    QueueEvent.TRANSFER: "转窗",
    QueueEvent.FINISH: "办结",
}

W, C, S, D, K = (
    TicketState.WAITING,
    TicketState.CALLED,
    TicketState.SERVING,
    TicketState.DONE,
    TicketState.SKIPPED,
)
# The whole state machine: (state, event) -> the next state. Anything else is refused.
TRANSITIONS: dict[tuple[TicketState, QueueEvent], TicketState] = {
    (W, QueueEvent.CALL): C,
    (C, QueueEvent.RECALL): C,
    (C, QueueEvent.START): S,
    (C, QueueEvent.SKIP): K,
    (K, QueueEvent.REQUEUE): W,
    (C, QueueEvent.TRANSFER): W,
    (S, QueueEvent.TRANSFER): W,
    (S, QueueEvent.FINISH): D,
}
AT_WINDOW = frozenset({TicketState.CALLED, TicketState.SERVING})  # a window holds at most one

MAX_NUMBER = 9999  # numbers a category may reach in a day (A001 … A9999)
MAX_CASES_PER_VISIT = 20  # 一件事 packages are several cases; more than this is a mistake
TEXT_LIMIT = 64  # an appointment reference or an item code
REASON_LIMIT = 200  # a pause's reason
_TICKET = re.compile(r"([ABV])(\d{3,4})")
_WINDOW = re.compile(r"[0-9A-Za-z]{1,8}")
_LETTERS = frozenset(category.value for category in QueueCategory)


def next_state(state: TicketState | str, event: QueueEvent | str) -> TicketState | None:
    """The state ``event`` leads to from ``state``, or None when the machine does not allow it."""
    try:
        return TRANSITIONS.get((TicketState(state), QueueEvent(event)))
    except ValueError:
        return None


def ticket_number(category: QueueCategory, number: int) -> str:
    """``A001``: the category's letter and the day's sequence (at least three digits)."""
    if not 1 <= number <= MAX_NUMBER:
        raise ValueError(f"ticket numbers run from 1 to {MAX_NUMBER}")
    return f"{category.value}{number:03d}"


def parse_ticket(text: str) -> tuple[QueueCategory, int] | None:
    """(category, number) of a well-formed ticket number, else None."""
    match = _TICKET.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        return None
    number = int(match.group(2))
    if not 1 <= number <= MAX_NUMBER or ticket_number(QueueCategory(match.group(1)), number) != match.group(
        0
    ):
        return None  # A01, A0001 are not numbers this station hands out
    return QueueCategory(match.group(1)), number


def parse_category(text: str) -> QueueCategory | None:
    """A category from its letter (any case) or its name (``综合``, ``enterprise``…)."""
    word = text.strip()
    if word.upper() in _LETTERS:
        return QueueCategory(word.upper())
    return CATEGORY_WORDS.get(word.lower())


def valid_window(text: object) -> bool:
    """A window's name: 1–8 letters or digits (``01``, ``3``, ``V1``)."""
    return isinstance(text, str) and _WINDOW.fullmatch(text) is not None


def queue_day(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.date:
    """The day a ticket taken at ``moment`` belongs to: the station's local date (like every
    other date of the counter), or the date in ``zone``."""
    return moment.astimezone(zone).date()


def parse_moment(text: object) -> dt.datetime | None:
    """An ISO 8601 timestamp with a time zone, else None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# ------------------------------------------------------------------ the calling rule


@dataclass(frozen=True, slots=True)
class CallingRule:
    """How 绿色通道 goes first without starving the other queues (see the module docstring)."""

    max_priority_in_row: int = 3
    max_wait: dt.timedelta = dt.timedelta(minutes=15)


DEFAULT_RULE = CallingRule()


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A waiting ticket as the calling rule sees it."""

    ticket: str
    category: QueueCategory
    queued_at: dt.datetime  # when it joined the queue (taken, re-queued or transferred)
    number: int
    target_window: str | None = None  # 转窗 to this window

    def order(self) -> tuple[dt.datetime, str, int]:
        """Who has waited longest (then by category and number, so the order is total)."""
        return (self.queued_at, self.category.value, self.number)


def pick_next(
    waiting: Iterable[WaitingTicket],
    window: str,
    now: dt.datetime,
    priority_streak: int,
    rule: CallingRule = DEFAULT_RULE,
    categories: Collection[QueueCategory] | None = None,
) -> WaitingTicket | None:
    """The ticket ``window`` calls next, or None when nobody waits for it.

    ``priority_streak``: how many of this window's latest calls in a row were ``V``.
    ``categories``: the queues the window serves (None: all). See the module docstring.
    """
    transferred: WaitingTicket | None = None
    priority: WaitingTicket | None = None
    regular: WaitingTicket | None = None
    for ticket in waiting:
        if ticket.target_window is not None:
            if ticket.target_window == window and (
                transferred is None or ticket.order() < transferred.order()
            ):
                transferred = ticket
            continue
        if categories is not None and ticket.category not in categories:
            continue
        if ticket.category is QueueCategory.PRIORITY:
            if priority is None or ticket.order() < priority.order():
                priority = ticket
        elif regular is None or ticket.order() < regular.order():
            regular = ticket
    if transferred is not None:
        return transferred
    if priority is None:
        return regular
    if (
        regular is not None
        and priority_streak >= rule.max_priority_in_row
        and now - regular.queued_at >= rule.max_wait
    ):
        return regular
    return priority


# ------------------------------------------------------------------ a ticket as read back


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket as the station holds it (a plain read model for the CLI and the counter)."""

    station: str
    day: dt.date
    ticket: str
    number: int
    category: QueueCategory  # the queue it is in now (转窗 may have moved it)
    state: TicketState
    taken_at: dt.datetime
    queued_at: dt.datetime
    window: str | None = None  # the window that called it last
    target_window: str | None = None  # 转窗 to this window, while waiting
    phone: str | None = None
    appointment: str | None = None
    item_code: str | None = None
    called_at: dt.datetime | None = None  # the first call
    last_called_at: dt.datetime | None = None
    calls: int = 0  # 叫号 and 重呼
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    cases: tuple[str, ...] = ()

    def contract(self) -> dict[str, object]:
        """The ``window-client queue list --json`` entry (keys fixed by the contract)."""
        return {
            "ticket": self.ticket,
            "category": self.category.value,
            "state": self.state.value,
            "window": self.window,
            "taken_at": self.taken_at.isoformat(),
            "called_at": None if self.called_at is None else self.called_at.isoformat(),
        }

    def waiting(self) -> WaitingTicket:
        """As the calling rule sees it."""
        return WaitingTicket(self.ticket, self.category, self.queued_at, self.number, self.target_window)
