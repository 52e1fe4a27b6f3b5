"""The queue's pure rules (models/queue.py): numbers, the state machine, the calling rule (with
Hypothesis properties) and the day's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.queue import (
    CHINA,
    DEFAULT_RULE,
    TRANSITIONS,
    CallingRule,
    QueueCategory,
    QueueEvent,
    TicketState,
    WaitingTicket,
    next_state,
    parse_category,
    parse_ticket,
    pick_next,
    queue_day,
    ticket_number,
    valid_window,
)
from models.queue_figures import TicketTimes, figures, p90

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in China
A, B, V = QueueCategory.GENERAL, QueueCategory.ENTERPRISE, QueueCategory.PRIORITY


def test_numbers_per_category_with_three_digits_at_least() -> None:
    assert (
        ticket_number(A, 1) == "A001" and ticket_number(V, 42) == "V042" and ticket_number(B, 1000) == "B1000"
    )
    assert parse_ticket("a007") == (A, 7) and parse_ticket(" V120 ") == (V, 120)
    for bad in ("A0001", "C001", "A01", "A000", "001", "", "A\x1b[2J"):
        assert parse_ticket(bad) is None, bad
    with pytest.raises(ValueError):
        ticket_number(A, 10_000)


def test_categories_by_letter_or_name_and_windows() -> None:
    assert [parse_category(w) for w in ("a", "B", "综合", "企业", "绿色通道", "预约", "Enterprise")] == [
        A, B, A, B, V, V, B,
    ]  # fmt: skip
    assert parse_category("X") is None and parse_category("") is None
    assert valid_window("01") and valid_window("V2") and not valid_window("") and not valid_window("0 1")
    assert not valid_window("123456789") and not valid_window(None)


def test_the_day_is_the_local_date_or_the_zones() -> None:
    late = dt.datetime(2026, 11, 19, 16, 30, tzinfo=dt.UTC)
    assert queue_day(late, CHINA) == dt.date(2026, 11, 20)
    assert queue_day(late, dt.UTC) == dt.date(2026, 11, 19)
    assert queue_day(late) == late.astimezone().date()


def test_the_state_machine() -> None:
    assert next_state("waiting", "call") is TicketState.CALLED
    assert next_state(TicketState.CALLED, QueueEvent.RECALL) is TicketState.CALLED
    assert next_state("skipped", "requeue") is TicketState.WAITING
    assert next_state("serving", "finish") is TicketState.DONE
    assert next_state("waiting", "finish") is None and next_state("done", "call") is None
    assert next_state("nonsense", "call") is None
    # Nothing leaves 办结; a skipped ticket only comes back by a re-queue.
    assert {event for (state, event) in TRANSITIONS if state is TicketState.DONE} == set()
    assert {event for (state, event) in TRANSITIONS if state is TicketState.SKIPPED} == {QueueEvent.REQUEUE}


# ------------------------------------------------------------------ the calling rule

WINDOWS = st.sampled_from(["01", "02", "03"])


@st.composite
def waiting_lists(draw: st.DrawFn) -> list[WaitingTicket]:
    count = draw(st.integers(0, 12))
    tickets = []
    numbers = dict.fromkeys(QueueCategory, 0)
    for _ in range(count):
        category = draw(st.sampled_from(list(QueueCategory)))
        numbers[category] += 1
        minutes = draw(st.integers(0, 60))
        target = draw(st.one_of(st.none(), WINDOWS)) if draw(st.integers(0, 4)) == 0 else None
        tickets.append(
            WaitingTicket(
                ticket_number(category, numbers[category]),
                category,
                T0 + dt.timedelta(minutes=minutes),
                numbers[category],
                target,
            )
        )
    return tickets


@given(waiting=waiting_lists(), window=WINDOWS, streak=st.integers(0, 6), late=st.integers(0, 90))
def test_the_rule_calls_whom_it_says(
    waiting: list[WaitingTicket], window: str, streak: int, late: int
) -> None:
    now = T0 + dt.timedelta(minutes=60 + late)
    chosen = pick_next(waiting, window, now, streak)
    mine = [t for t in waiting if t.target_window == window]
    open_ = [t for t in waiting if t.target_window is None]
    if not mine and not open_:
        assert chosen is None
        return
    assert chosen is not None
    assert chosen.target_window in (None, window), "a ticket sent to another window is never called here"
    if mine:
        assert chosen == min(mine, key=WaitingTicket.order), "转窗 to this window first, earliest first"
        return
    priority = [t for t in open_ if t.category is V]
    regular = [t for t in open_ if t.category is not V]
    oldest = min(regular, key=WaitingTicket.order) if regular else None
    starving = (
        oldest is not None
        and streak >= DEFAULT_RULE.max_priority_in_row
        and now - oldest.queued_at >= DEFAULT_RULE.max_wait
    )
    if priority and not starving:
        assert chosen == min(priority, key=WaitingTicket.order)
    else:
        assert chosen == oldest


@given(
    regular=st.integers(1, 5),
    priority=st.integers(0, 30),
    rule=st.builds(
        CallingRule, st.integers(1, 4), st.sampled_from([dt.timedelta(0), dt.timedelta(minutes=5)])
    ),
)
def test_green_channel_never_starves_a_long_wait(regular: int, priority: int, rule: CallingRule) -> None:
    """Calling one window again and again while 绿色通道 keeps arriving: once an A/B ticket has
    waited ``max_wait``, at most ``max_priority_in_row`` V tickets are called before it."""
    waiting = [WaitingTicket(ticket_number(A, n), A, T0, n) for n in range(1, regular + 1)]
    waiting += [WaitingTicket(ticket_number(V, n), V, T0, n) for n in range(1, priority + 1)]
    now = T0 + rule.max_wait
    streak = 0
    called: list[WaitingTicket] = []
    while (chosen := pick_next(waiting, "01", now, streak, rule)) is not None:
        waiting.remove(chosen)
        called.append(chosen)
        streak = streak + 1 if chosen.category is V else 0
        v_in_row = 0
        for ticket in reversed(called):
            if ticket.category is not V:
                break
            v_in_row += 1
        if any(t.category is A for t in waiting):
            assert v_in_row <= rule.max_priority_in_row
    assert len(called) == regular + priority
    assert [t.ticket for t in called if t.category is A] == [
        ticket_number(A, n) for n in range(1, regular + 1)
    ]


def test_a_window_may_serve_only_some_queues() -> None:
    waiting = [WaitingTicket("A001", A, T0, 1), WaitingTicket("B001", B, T0 + dt.timedelta(minutes=1), 1)]
    chosen = pick_next(waiting, "05", T0, 0, categories={B})
    assert chosen is not None and chosen.ticket == "B001"
    assert pick_next(waiting, "05", T0, 0, categories={V}) is None


# ------------------------------------------------------------------ figures


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None and p90([5.0]) == 5.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0
    assert p90([float(n) for n in range(1, 21)]) == 18.0


def test_figures_per_window_and_category() -> None:
    def ticket(
        category: QueueCategory, state: TicketState, wait: int | None, service: int | None, window: str
    ) -> TicketTimes:
        called = T0 + dt.timedelta(minutes=wait) if wait is not None else None
        started = called if service is not None else None
        finished = called + dt.timedelta(minutes=service) if called and service is not None else None
        return TicketTimes(category, state, T0, called, started, finished, window, "GXZX")

    rows = figures(
        [
            ticket(A, TicketState.DONE, 10, 4, "01"),
            ticket(A, TicketState.DONE, 20, 6, "01"),
            ticket(A, TicketState.SKIPPED, 30, None, "01"),
            ticket(V, TicketState.SERVING, 2, None, "02"),
            ticket(B, TicketState.WAITING, None, None, ""),
        ]
    )
    assert [(r.window, r.category) for r in rows] == [("01", A), ("02", V), ("", B)]
    first = rows[0]
    assert (first.tickets, first.served, first.skipped) == (3, 2, 1)
    assert first.mean_wait == 20 * 60 and first.p90_wait == 30 * 60 and first.mean_service == 5 * 60
    assert rows[1].mean_service is None and rows[2].mean_wait is None and rows[2].tickets == 1
