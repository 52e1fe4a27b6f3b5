"""A Hypothesis state machine over two stations' queues and one real hall server: whatever the
interleaving of offline takes, calls and counter steps, syncs, and crashes between the hall's
answer and the station's record of it, a final sync leaves the hall with exactly the tickets the
stations took (none lost, none twice, each in the station's state), and every queue operation at
the hall exactly once (DESIGN.md §4; the model of tests/functional/test_sync_model.py).

The hall is a real subprocess shared by the examples; each example queues on its own day, so
its ticket numbers are its own.
"""

# Test functions take the imported fixtures as parameters, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from models.problems import DomainError
from models.queue import TicketState
from tests.functional.test_sync_client import fresh_hall, seeded_hall_db  # noqa: F401
from tests.functional.test_sync_model import ModelClient, SimulatedCrash
from tests.hall import HallProcess
from window_client.hall_client import HallClient
from window_client.services.queue import QueueService
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.sync import SyncService

BATCH = 3  # small pushes, so a crash can fall between two batches of one run
START = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in China
STATIONS = ("GXZX", "JHZX")
WINDOWS = st.sampled_from(["01", "02"])
STEPS = ("recall", "start", "skip", "requeue", "transfer", "finish")


@dataclass
class World:
    hall: HallProcess
    root: Path
    accounts: dict[str, tuple[str, str]]  # station -> (staff_no, password)
    tokens: dict[str, str]
    examples: int = 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_hall_db: Path) -> Iterator[World]:
    root = tmp_path_factory.mktemp("queue-model")
    demo = json.loads((seeded_hall_db.parent / "demo.json").read_text(encoding="utf-8"))
    clerks = {s["station"]: (s["staff_no"], s["password"]) for s in demo["staff"] if s["role"] == "clerk"}
    hall = fresh_hall(root, seeded_hall_db)
    try:
        tokens = {}
        for code in STATIONS:
            with HallClient(hall.url) as client:
                tokens[code] = client.sign_in(*clerks[code], code).token
        yield World(hall, root, {code: clerks[code] for code in STATIONS}, tokens)
    finally:
        hall.stop()


@dataclass
class Station:
    """One station of one example: its store, queue and sync, restartable after a crash."""

    code: str
    home: Path
    url: str
    token: str
    clock: list[dt.datetime]
    rt: Runtime = field(init=False)
    client: ModelClient = field(init=False)
    queue: QueueService = field(init=False)

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.rt = Runtime(Settings(home=self.home, station=self.code, server=self.url), actor="C001")
        self.client = ModelClient(self.url, timeout=30)
        self.client.token = self.token
        self.rt.__dict__["sync"] = SyncService(
            self.rt.store, self.code, self.url, client=self.client, batch_size=BATCH
        )
        self.queue = QueueService(
            self.rt.store, self.code, "C001", self.rt.catalog, clock=lambda: self.clock[0]
        )

    def restart(self) -> None:
        self.rt.close()
        self.start()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.rt.store.path, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


def hall_query(world: World, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(world.hall.db_url.removeprefix("sqlite:///"), timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def hall_write(world: World, sql: str) -> None:
    conn = sqlite3.connect(world.hall.db_url.removeprefix("sqlite:///"), timeout=30)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


class QueueModel(RuleBasedStateMachine):
    """Two stations' counters and kiosks, their syncs and crashes; one hall."""

    def __init__(self, world: World) -> None:
        super().__init__()
        world.examples += 1
        self.world = world
        self.clock = [START + dt.timedelta(days=world.examples)]
        self.day = self.clock[0].date()
        directory = world.root / f"example-{world.examples}"
        self.stations = [
            Station(code, directory / code, world.hall.url, world.tokens[code], self.clock)
            for code in STATIONS
        ]
        self.taken: dict[str, list[str]] = {code: [] for code in STATIONS}
        # Each example's stations are new stores under the same codes: a pause an earlier
        # example left at the hall (pauses last until resumed) would not be theirs.
        hall_write(world, "DELETE FROM queue_windows")

    def _local_tickets(self, station: Station) -> dict[str, tuple[str, str | None]]:
        rows = station.query(
            "SELECT ticket, state, window FROM queue_tickets WHERE day = ?", self.day.isoformat()
        )
        return {t: (s, w) for t, s, w in rows}

    # ------------------------------------------------------------ rules: the hall floor and the counter

    @rule(index=st.integers(0, 1), category=st.sampled_from(["A", "B", "V"]), minutes=st.integers(0, 20))
    def take(self, index: int, category: str, minutes: int) -> None:
        self.clock[0] += dt.timedelta(minutes=minutes)
        station = self.stations[index]
        ticket = station.queue.take(category)
        assert ticket.ticket not in self.taken[station.code], "a number handed out twice"
        self.taken[station.code].append(ticket.ticket)

    @rule(index=st.integers(0, 1), window=WINDOWS)
    def call(self, index: int, window: str) -> None:
        station = self.stations[index]
        try:
            station.queue.call_next(window)
        except DomainError as exc:
            assert exc.problem.code in ("queue.window_busy", "queue.window_paused"), exc.problem.en()

    @precondition(lambda self: any(self.taken.values()))
    @rule(index=st.integers(0, 1), pick=st.integers(0, 1000), step=st.sampled_from(STEPS), window=WINDOWS)
    def counter_step(self, index: int, pick: int, step: str, window: str) -> None:
        """A step on any ticket, legal or not: an illegal one is refused and writes nothing."""
        station = self.stations[index]
        if not self.taken[station.code]:
            return
        ticket = self.taken[station.code][pick % len(self.taken[station.code])]
        before = station.query("SELECT COUNT(*) FROM outbox")[0][0]
        queue = station.queue
        try:
            if step == "requeue":
                queue.requeue(ticket)
            elif step == "transfer":
                queue.transfer(ticket, window, to_window="02" if window == "01" else "01")
            elif step == "finish":
                queue.finish(ticket, window)
            else:
                getattr(queue, step)(ticket, window)
        except DomainError:
            assert station.query("SELECT COUNT(*) FROM outbox")[0][0] == before

    @rule(index=st.integers(0, 1), window=WINDOWS, pause=st.booleans())
    def pause_or_resume(self, index: int, window: str, pause: bool) -> None:
        queue = self.stations[index].queue
        try:
            queue.pause(window, "午休") if pause else queue.resume(window)
        except DomainError as exc:
            assert exc.problem.code == "queue.not_paused"

    # ------------------------------------------------------------ rules: sync and crashes

    def refused(self, station: Station) -> list[tuple[Any, ...]]:
        return station.query("SELECT kind, code, reason, payload FROM outbox WHERE status = 'conflict'")

    @rule(index=st.integers(0, 1))
    def sync(self, index: int) -> None:
        station = self.stations[index]
        report = station.rt.sync_once()
        assert report.completed and report.pending == 0, report
        assert self.refused(station) == [], "the hall refused what the counter allowed"

    @rule(
        index=st.integers(0, 1), point=st.sampled_from(["before_push", "after_push"]), nth=st.integers(1, 3)
    )
    def crash(self, index: int, point: str, nth: int) -> None:
        """The station dies in a sync (after the hall committed, the station never recorded it)."""
        station = self.stations[index]
        station.client.arm(point, nth)
        try:
            station.rt.sync_once()
        except SimulatedCrash:
            station.restart()
        station.client.crash_at = None

    # ------------------------------------------------------------ invariants

    @invariant()
    def one_take_per_ticket_and_nothing_acked_unknown(self) -> None:
        for station in self.stations:
            local = self._local_tickets(station)
            assert sorted(local) == sorted(self.taken[station.code])
            takes = Counter(
                json.loads(p)["ticket"]
                for (p,) in station.query("SELECT payload FROM outbox WHERE kind = 'queue.take'")
            )
            assert takes == Counter(set(local)), "one take operation per ticket"
            acked = [op for (op,) in station.query("SELECT op_id FROM outbox WHERE status != 'pending'")]
            if acked:
                marks = ", ".join("?" * len(acked))
                known = {
                    op
                    for (op,) in hall_query(
                        self.world, f"SELECT op_id FROM operations WHERE op_id IN ({marks})", *acked
                    )
                }
                assert set(acked) <= known, "marked as pushed but unknown to the hall"

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:
                self.converge()
        finally:
            for station in self.stations:
                station.rt.close()

    def converge(self) -> None:
        for station in self.stations:
            report = station.rt.sync_once()
            assert report.completed and report.pending == 0, report
            assert self.refused(station) == [], "the hall refused what the counter allowed"
            hall = {
                t: (s, w)
                for t, s, w in hall_query(
                    self.world,
                    'SELECT ticket, state, "window" FROM queue_tickets WHERE station = ? AND day = ?',
                    station.code,
                    self.day.isoformat(),
                )
            }
            local = self._local_tickets(station)
            assert hall == local, f"{station.code}: the hall and the station differ"
            ops = [op for (op,) in station.query("SELECT op_id FROM outbox WHERE kind LIKE 'queue.%'")]
            assert {s for (s,) in station.query("SELECT status FROM outbox")} <= {"acked"}
            if ops:
                marks = ", ".join("?" * len(ops))
                at_hall = Counter(
                    op
                    for (op,) in hall_query(
                        self.world,
                        f"SELECT op_id FROM operations WHERE station = ? AND op_id IN ({marks})",
                        station.code,
                        *ops,
                    )
                )
                assert at_hall == Counter(ops), "every queue operation at the hall exactly once"
            served = [t for t, (s, _) in local.items() if s == TicketState.DONE.value]
            assert len(served) == len(set(served))


def test_no_interleaving_loses_or_duplicates_a_ticket(world: World) -> None:
    run_state_machine_as_test(
        lambda: QueueModel(world),
        settings=settings(
            max_examples=int(os.environ.get("QUEUE_MODEL_EXAMPLES", "10")),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
