"""排队叫号 at a station (window_client/services/queue.py) against a real store file: numbers,
the calling rule, every step with its audit event and outbox operation, refusals that write
nothing, the day close's figures, and a client killed while tickets are being taken."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from models.problems import DomainError
from models.queue import CallingRule, QueueCategory, TicketState
from models.sync import payload_model
from tests.conftest import TODAY
from tests.functional.test_tui_more import accept
from window_client.services.queue import QueueService
from window_client.services.runtime import Runtime

START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in China on TODAY


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(rt: Runtime, clock: Clock) -> QueueService:
    return QueueService(rt.store, rt.station.code, "C001", rt.catalog, clock=clock)


def rows(rt: Runtime, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def written(rt: Runtime) -> tuple[int, int]:
    """(audit events, outbox operations) in the store."""
    return rows(rt, "SELECT COUNT(*) FROM audit_events")[0][0], rows(rt, "SELECT COUNT(*) FROM outbox")[0][0]


def test_numbers_run_per_category_and_day(rt: Runtime, queue: QueueService, clock: Clock) -> None:
    taken = [queue.take(c).ticket for c in ("A", "B", "A", "综合", "V", "企业")]
    assert taken == ["A001", "B001", "A002", "A003", "V001", "B002"]
    assert queue.take("SCJG-001").ticket == "B003"  # an enterprise item queues as 企业
    assert queue.take("RS-002").ticket == "A004"
    assert queue.take("A", appointment="YY-2026-0042").ticket == "V002"  # an appointment is 绿色通道
    clock.advance(24 * 60)
    assert queue.take("A").ticket == "A001"  # a new day starts again
    # Each ticket is one audit event and one outbox operation, with the typed payload.
    takes = rows(rt, "SELECT payload FROM outbox WHERE kind = 'queue.take' ORDER BY seq")
    assert len(takes) == 10 and written(rt)[0] >= 10
    body = payload_model("queue.take").model_validate_json(takes[1][0])
    assert (body.ticket, body.category, body.day) == ("B001", "B", TODAY)  # type: ignore[attr-defined]
    assert "phone" not in json.loads(takes[0][0])  # the phone stays on the station


def test_bad_input_writes_nothing(rt: Runtime, queue: QueueService) -> None:
    queue.take("A")
    before = written(rt)
    for bad in (
        lambda: queue.take("X"),
        lambda: queue.take("A", phone="12345"),
        lambda: queue.take("A", appointment="\x1b[31mred"),
        lambda: queue.call_next("0 1"),
        lambda: queue.recall("A001", "01"),  # waiting: nothing to recall
        lambda: queue.skip("A404", "01"),
        lambda: queue.pause("01", "   "),
        lambda: queue.resume("01"),  # not paused
    ):
        with pytest.raises(DomainError):
            bad()
    assert written(rt) == before


def test_a_visit_from_call_to_finish(rt: Runtime, queue: QueueService, clock: Clock) -> None:
    queue.take("A", phone="13800138000")
    clock.advance(6)
    called = queue.call_next("01")
    assert called is not None and (called.ticket, called.state, called.window) == ("A001", "called", "01")
    assert called.phone == "13800138000"  # what the acceptance form can start from
    with pytest.raises(DomainError) as busy:
        queue.call_next("01")
    assert busy.value.problem.code == "queue.window_busy"
    assert queue.recall("A001", "01").calls == 2
    with pytest.raises(DomainError) as other:
        queue.start("A001", "02")
    assert other.value.problem.code == "queue.not_your_window"
    queue.start("A001", "01")
    clock.advance(9)
    one, two = accept(rt, tolerated=False), accept(rt, tolerated=True)
    with pytest.raises(DomainError) as unknown:
        queue.finish("A001", "01", [one, "GXZX-20261120-99999"])
    assert unknown.value.problem.code == "case.unknown"
    done = queue.finish("A001", "01", [one, two, one])  # 一件事: several cases, each once
    assert done.state is TicketState.DONE and done.cases == (one, two)
    assert queue.current("01") is None
    events = [
        json.loads(p)["event"] for (p,) in rows(rt, "SELECT payload FROM outbox WHERE kind = 'queue.event'")
    ]
    assert events == ["call", "recall", "start", "finish"]
    actions = [
        a for (a,) in rows(rt, "SELECT action FROM audit_events WHERE subject LIKE 'queue/%' ORDER BY seq")
    ]
    assert actions == ["queue.take", "queue.call", "queue.recall", "queue.start", "queue.finish"]
    close = rt.cases.day_close(rt.station.code, TODAY, TODAY)
    [figures] = close.queue
    assert (figures.window, figures.category, figures.tickets, figures.served) == (
        "01",
        QueueCategory.GENERAL,
        1,
        1,
    )
    assert figures.mean_wait == 6 * 60 and figures.mean_service == 9 * 60


def test_green_channel_first_within_limits(rt: Runtime) -> None:
    clock = Clock()
    queue = QueueService(
        rt.store, rt.station.code, "C001", rt.catalog, CallingRule(2, dt.timedelta(minutes=10)), clock
    )
    queue.take("A")
    for _ in range(4):
        queue.take("V")
    clock.advance(11)  # A001 has waited past the limit
    calls = []
    for _ in range(5):
        ticket = queue.call_next("01")
        assert ticket is not None
        calls.append(ticket.ticket)
        queue.skip(ticket.ticket, "01")
    assert calls == ["V001", "V002", "A001", "V003", "V004"]
    assert queue.call_next("01") is None  # nobody waits


def test_skip_requeue_transfer_and_pause(rt: Runtime, queue: QueueService, clock: Clock) -> None:
    for category in ("A", "A", "B"):
        queue.take(category)
    first = queue.call_next("01")
    assert first is not None and first.ticket == "A001"
    queue.skip("A001", "01")
    clock.advance(1)
    assert queue.requeue("A001").state is TicketState.WAITING  # at the end of the queue
    assert [t.ticket for t in queue.tickets(states=[TicketState.WAITING])] == ["A001", "A002", "B001"]
    assert queue.board().next_up == ("A002", "B001", "A001")
    second = queue.call_next("01")
    assert second is not None and second.ticket == "A002"
    moved = queue.transfer("A002", "01", to_window="03", to_category="B")
    assert (moved.state, moved.target_window, moved.category) == ("waiting", "03", QueueCategory.ENTERPRISE)
    third = queue.call_next("02")
    assert third is not None and third.ticket == "B001"  # A002 waits for window 03 only
    queue.pause("03", "系统维护")
    with pytest.raises(DomainError) as paused:
        queue.call_next("03")
    assert paused.value.problem.code == "queue.window_paused"
    board = queue.board()
    assert [(w.window, w.ticket, w.paused) for w in board.windows] == [
        ("02", "B001", False),
        ("03", None, True),
    ]
    assert board.waiting == {QueueCategory.GENERAL: 1, QueueCategory.ENTERPRISE: 1, QueueCategory.PRIORITY: 0}
    queue.resume("03")
    called = queue.call_next("03")
    assert called is not None and called.ticket == "A002"
    kinds = [k for (k,) in rows(rt, "SELECT kind FROM outbox WHERE kind = 'queue.window'")]
    assert kinds == ["queue.window", "queue.window"]


KILLED_TAKER = """
import sys
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
rt = Runtime(Settings.from_env(), actor="kiosk")
print("ready", flush=True)
n = 0
while True:
    n += 1
    rt.queue.take("V" if n % 3 == 0 else "A")
"""


def test_a_killed_client_loses_no_ticket_and_duplicates_none(rt: Runtime, home: Path) -> None:
    """A kiosk process taking tickets as fast as it can is killed with SIGKILL (several times):
    every ticket in the store has exactly one outbox operation, the numbers have no gap and no
    repeat, and the audit chain holds."""
    rt.close()
    for _ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_TAKER], stdout=subprocess.PIPE, env=dict(os.environ)
        )
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        time.sleep(0.4)
        process.send_signal(signal.SIGKILL)
        process.wait()
    reopened = Runtime(rt.settings, actor="C001")
    try:
        tickets = rows(reopened, "SELECT ticket, category, number FROM queue_tickets")
        takes = [
            json.loads(p)["ticket"]
            for (p,) in rows(reopened, "SELECT payload FROM outbox WHERE kind = 'queue.take'")
        ]
        assert len(tickets) > 3
        assert sorted(takes) == sorted(t for t, _, _ in tickets) and len(set(takes)) == len(takes)
        for category in ("A", "V"):
            numbers = sorted(n for _, c, n in tickets if c == category)
            assert numbers == list(range(1, len(numbers) + 1)), f"{category}: a gap or a repeat"
        assert reopened.store.verify_audit()[1] is None
    finally:
        reopened.close()
