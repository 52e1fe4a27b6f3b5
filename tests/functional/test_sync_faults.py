"""Faults that must lose nothing and duplicate nothing (DESIGN.md §4): kill -9 of the client
before, during and after a push the server committed; kill -9 of the server mid-push; a 500; an
answer lost after the commit; a timeout; a replayed request.

Everything is real: ``window-client sync`` runs as a subprocess and is killed with SIGKILL, the
hall server is a subprocess (tests/hall.py), faults come from a loopback proxy
(tests/faultproxy.py). After every fault a normal sync must converge: the hall holds exactly the
cases the station accepted, each once, with every operation of the station exactly once; every
outbox row is acknowledged; nothing is refused; the local states equal the hall's; the audit
chain verifies.
"""

# Test functions take the imported fixtures as parameters, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.enums import Tolerance
from tests.conftest import TODAY
from tests.faultproxy import Fault, FaultProxy
from tests.functional.test_acceptance_flow import request, tolerable_item

# The hall fixtures are shared with test_sync_client (imported: pytest finds them by name).
from tests.functional.test_sync_client import (  # noqa: F401
    hall,
    hall_cli,
    seeded_hall_db,
)
from tests.hall import HallProcess
from window_client.cli import app as cli_app
from window_client.hall_client import ServerError, Unreachable
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

runner = CliRunner()
_SCRIPT = Path(sys.executable).with_name("window-client")
CLI = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from window_client.cli import main; main()"]
)
PUSH = "/api/v1/sync/push"
CHANGES = "/api/v1/sync/changes"
LARGE = 2000  # operations of a "large push"
SMALL_BATCH = 20  # operations per push while a large push is killed
WAIT = 120.0  # the longest any single step may take before the test gives up


# ---------------------------------------------------------------- a station on disk


@dataclass
class StationHome:
    """A station's data directory, used both in process and by the ``window-client`` CLI."""

    home: Path
    code: str = "GXZX"
    staff_no: str = "C001"
    password: str = "demo-1234"

    @property
    def db(self) -> Path:
        return self.home / "station.db"

    def configure(self, **sync: float) -> None:
        """Write ``config.toml`` with a ``[sync]`` table (batch_size, timeout_seconds, …)."""
        self.home.mkdir(parents=True, exist_ok=True)
        lines = ["[sync]", *(f"{k} = {v}" for k, v in sync.items())]
        (self.home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def env(self, server: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOW_CLIENT_")}
        env.update(
            WINDOW_CLIENT_HOME=str(self.home),
            WINDOW_CLIENT_STATION=self.code,
            WINDOW_CLIENT_SERVER=server,
            WINDOW_CLIENT_USER=self.staff_no,
            WINDOW_CLIENT_PASSWORD=self.password,
        )
        return env

    def runtime(self, server: str) -> Runtime:
        """The station's services in this process (its config.toml applies)."""
        settings = Settings.from_env(
            {"WINDOW_CLIENT_HOME": str(self.home), "WINDOW_CLIENT_STATION": self.code}
        )
        return Runtime(replace(settings, server=server), actor=self.staff_no)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def outbox(self) -> dict[str, int]:
        return {str(s): int(n) for s, n in self.query("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    def acked_ops(self) -> set[str]:
        return {str(o) for (o,) in self.query("SELECT op_id FROM outbox WHERE status = 'acked'")}


def accept_cases(station: StationHome, count: int) -> set[str]:
    """``count`` cases accepted offline in one transaction (a third complete, a third 容缺,
    a third 不予受理); returns their numbers."""
    rt = station.runtime("http://127.0.0.1:9")  # never contacted
    try:
        item = tolerable_item(rt)
        tolerable = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
        core = next(m for m in item.materials if m.tolerance is Tolerance.CORE)
        shapes = [(), (tolerable.code,), (core.code,)]
        decisions = []
        for n in range(count):
            req = request(item, shapes[n % 3])
            decisions.append(rt.acceptance.decide(req, TODAY, rt.acceptance.standing_of(req.applicant.id)))
        rt.acceptance.commit(decisions, TODAY)
        numbers = {d.case_no for d in decisions if d.case_no}
    finally:
        rt.close()
    assert len(numbers) == count
    assert station.outbox() == {"pending": count}
    return numbers


# ---------------------------------------------------------------- the CLI as a process


def start_sync(station: StationHome, server: str, log: Path) -> subprocess.Popen[bytes]:
    """``window-client sync --json`` as a separate process (output to ``log``)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [*CLI, "sync", "--json"], env=station.env(server), stdout=out, stderr=subprocess.STDOUT
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no cleanup, no atexit, no rollback by the process itself."""
    process.kill()
    process.wait(timeout=WAIT)


def run_sync(station: StationHome, server: str) -> tuple[int, dict[str, int], str]:
    """One ``window-client sync --json`` run to the end: (exit code, JSON, stderr)."""
    done = subprocess.run(
        [*CLI, "sync", "--json"],
        env=station.env(server),
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    data = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, data, done.stderr


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``condition()`` until it is true (the fault tests act at observed points, not times)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


# ---------------------------------------------------------------- what the hall holds


def hall_db(hall: HallProcess) -> Path:
    return Path(hall.db_url.removeprefix("sqlite:///"))


def hall_query(hall: HallProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the hall's own database (SQLite in WAL mode: readable while the server writes)."""
    conn = sqlite3.connect(hall_db(hall), timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def hall_case_count(hall: HallProcess) -> int:
    try:
        return int(hall_query(hall, "SELECT COUNT(*) FROM cases")[0][0])
    except sqlite3.OperationalError:  # locked for a moment by a commit
        return 0


def assert_converged(
    hall: HallProcess, station: StationHome, accepted: set[str], refused: frozenset[str] = frozenset()
) -> None:
    """The hall holds exactly ``accepted`` for the station, each case and each operation once;
    every outbox row is acknowledged (or, for ``refused`` op ids, refused with a reason); the
    local states equal the hall's; the audit chain verifies."""
    # Through the real `hall-server cases list --json`.
    listed = [c for c in json.loads(_hall_list_json(hall))["cases"] if c["station"] == station.code]
    twice = [no for no, n in Counter(c["case_no"] for c in listed).items() if n > 1]
    assert twice == [], f"listed more than once by the hall: {twice[:5]}"
    mine = {c["case_no"]: c for c in listed}
    assert set(mine) == accepted, (
        f"missing on the hall: {sorted(accepted - set(mine))[:5]}, "
        f"unknown to the station: {sorted(set(mine) - accepted)[:5]}"
    )

    outbox = station.query("SELECT op_id, status, code, reason FROM outbox")
    statuses = Counter(status for _, status, _, _ in outbox)
    want = Counter({"acked": len(outbox) - len(refused), "conflict": len(refused)})
    assert statuses == +want, statuses
    for op_id, status, code, reason in outbox:
        if op_id in refused:
            assert status == "conflict" and code and reason, (op_id, status, code, reason)
    # Every operation of the station reached the hall exactly once (op_id is unique there).
    hall_ops = Counter(
        op for (op,) in hall_query(hall, "SELECT op_id FROM operations WHERE station = ?", station.code)
    )
    assert hall_ops == Counter(op for op, *_ in outbox)

    local = dict(station.query("SELECT case_no, state FROM cases"))
    assert set(local) == accepted
    assert {no: c["state"] for no, c in mine.items()} == local

    verify = runner.invoke(
        cli_app, ["audit", "verify", "--json"], env={"WINDOW_CLIENT_HOME": str(station.home)}
    )
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.stdout)["ok"] is True


def _hall_list_json(hall: HallProcess) -> str:
    result = hall_cli(hall, "cases", "list", "--json")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def proxy(hall: HallProcess) -> Iterator[FaultProxy]:
    """A fault proxy in front of the hall."""
    fault_proxy = FaultProxy(hall.url)
    try:
        yield fault_proxy
    finally:
        fault_proxy.close()


# ---------------------------------------------------------------- the client killed


def test_client_killed_right_after_start_loses_nothing(tmp_path: Path, hall: HallProcess) -> None:
    station = StationHome(tmp_path / "gxzx")
    accepted = accept_cases(station, 30)
    process = start_sync(station, hall.url, tmp_path / "sync.log")
    kill(process)  # before it could sign in, let alone push
    assert process.returncode == -9
    assert station.outbox() == {"pending": 30}
    assert hall_case_count(hall) == 0
    code, report, stderr = run_sync(station, hall.url)
    assert code == 0, stderr
    assert report == {"pushed": 30, "duplicates": 0, "refused": 0, "pulled": report["pulled"], "pending": 0}
    assert_converged(hall, station, accepted)


@pytest.mark.slow
def test_client_killed_during_a_large_push_loses_and_duplicates_nothing(
    tmp_path: Path,
    hall: HallProcess,
) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=SMALL_BATCH)
    accepted = accept_cases(station, LARGE)
    process = start_sync(station, hall.url, tmp_path / "sync.log")
    try:
        # Kill once the hall has committed a few batches but far from all of them.
        wait_for(lambda: hall_case_count(hall) >= 3 * SMALL_BATCH, "the hall to receive cases")
    finally:
        kill(process)
    assert process.returncode == -9, (tmp_path / "sync.log").read_text()
    on_hall = hall_case_count(hall)
    assert 0 < on_hall < LARGE, "the push was not under way when the client died"
    # The station marked only what the hall had committed; at most the batch in flight is
    # committed there and unknown here.
    acked = station.acked_ops()
    hall_ops = {op for (op,) in hall_query(hall, "SELECT op_id FROM operations")}
    assert acked <= hall_ops
    assert len(hall_ops) - len(acked) <= SMALL_BATCH
    assert station.outbox() == {"acked": len(acked), "pending": LARGE - len(acked)}

    station.configure(batch_size=1000)  # the restarted client: no need to crawl any more
    code, report, stderr = run_sync(station, hall.url)
    assert code == 0, stderr
    assert report["pushed"] + report["duplicates"] == LARGE - len(acked)
    assert report["duplicates"] == len(hall_ops) - len(acked)
    assert (report["refused"], report["pending"]) == (0, 0)
    assert_converged(hall, station, accepted)


def test_client_killed_after_the_hall_committed_but_before_it_recorded_the_answer(
    tmp_path: Path,
    hall: HallProcess,
    proxy: FaultProxy,
) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=10)
    accepted = accept_cases(station, 45)
    # Two batches are answered; the third is committed by the hall and its answer held back.
    proxy.script(PUSH, Fault.PASS, Fault.PASS, Fault.STALL)
    process = start_sync(station, proxy.url, tmp_path / "sync.log")
    try:
        assert proxy.holding.wait(WAIT), (tmp_path / "sync.log").read_text()
        assert hall_case_count(hall) == 30  # committed at the hall …
        wait_for(lambda: station.outbox().get("acked") == 20, "the first two answers to be recorded")
    finally:
        kill(process)  # … while the client still waits for the answer
    assert process.returncode == -9
    assert station.outbox() == {"acked": 20, "pending": 25}

    code, report, stderr = run_sync(station, proxy.url)
    assert code == 0, stderr
    # The ten the hall had committed are answered as duplicates, not applied twice.
    assert (report["pushed"], report["duplicates"], report["refused"], report["pending"]) == (15, 10, 0, 0)
    assert_converged(hall, station, accepted)


def test_two_syncs_of_one_store_at_once_apply_each_operation_once(
    tmp_path: Path,
    hall: HallProcess,
) -> None:
    """The counter's background sync and a scripted ``window-client sync`` run together: both
    push the same queue; the hall applies each operation once and both stations' records agree."""
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=SMALL_BATCH)
    accepted = accept_cases(station, 400)
    first = start_sync(station, hall.url, tmp_path / "first.log")
    second = start_sync(station, hall.url, tmp_path / "second.log")
    reports = []
    for process, log in ((first, "first.log"), (second, "second.log")):
        text = (tmp_path / log).read_text() if process.wait(WAIT) is not None else ""
        assert process.returncode == 0, text
        reports.append(json.loads(text[: text.index("}") + 1]))
    assert sum(r["pushed"] for r in reports) == 400  # "applied" is answered once per operation
    assert all(r["refused"] == 0 and r["pending"] == 0 for r in reports)
    assert_converged(hall, station, accepted)


# ---------------------------------------------------------------- the server killed


@pytest.mark.slow
def test_server_killed_mid_request_and_restarted_converges(
    tmp_path: Path, hall: HallProcess, proxy: FaultProxy
) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=100)
    accepted = accept_cases(station, LARGE)
    pushes = itertools.count(1)

    def kill_hall_during_third_push(path: str) -> None:
        # The third batch has been handed to the hall and its answer not yet read.
        if path == PUSH and next(pushes) == 3:
            hall.kill()

    proxy.on_forward = kill_hall_during_third_push
    process = start_sync(station, proxy.url, tmp_path / "sync.log")
    try:
        assert process.wait(WAIT) == 1  # the client gives up on a hall that stopped answering
    finally:
        if process.poll() is None:
            kill(process)
    proxy.on_forward = None
    output = (tmp_path / "sync.log").read_text()
    assert not hall.running and "cannot reach the hall server" in output, output
    report = json.loads(output[: output.index("}") + 1])
    assert (report["pushed"], report["pending"]) == (200, LARGE - 200)
    assert station.outbox() == {"acked": 200, "pending": LARGE - 200}
    # What the hall committed before it died survives its restart (the batch in flight either
    # committed whole or not at all); nothing the station marked is missing there.
    hall.restart()
    acked = station.acked_ops()
    hall_ops = {op for (op,) in hall_query(hall, "SELECT op_id FROM operations")}
    assert acked <= hall_ops and len(hall_ops) in (200, 300)
    assert hall_case_count(hall) == len(hall_ops)

    station.configure(batch_size=1000)
    code, again, stderr = run_sync(station, proxy.url)
    assert code == 0, stderr
    assert (again["pushed"], again["duplicates"]) == (LARGE - len(hall_ops), len(hall_ops) - 200)
    assert (again["refused"], again["pending"]) == (0, 0)
    assert_converged(hall, station, accepted)


# ---------------------------------------------------------------- faults on the wire


def test_server_error_500_keeps_everything_queued_and_the_next_sync_converges(
    tmp_path: Path,
    hall: HallProcess,
    proxy: FaultProxy,
) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=10)
    accepted = accept_cases(station, 30)
    rt = station.runtime(proxy.url)
    try:
        rt.sync.sign_in_online(station.staff_no, station.password)
        proxy.script(PUSH, Fault.PASS, Fault.ERROR_500)
        first = rt.sync_once()
        assert isinstance(first.error, ServerError) and first.error.status == 500
        assert (first.pushed, first.pending) == (10, 20)
        assert rt.sync.status.last_error and rt.sync.status.next_retry_at is not None
        assert station.outbox() == {"acked": 10, "pending": 20}
        assert hall_case_count(hall) == 10  # the refused request never reached the hall
        # The push goes through, then the pull answers 500: the cases are acknowledged, the
        # cursor stays where it was and the next run pulls again.
        proxy.script(CHANGES, Fault.ERROR_500)
        second = rt.sync_once()
        assert isinstance(second.error, ServerError) and (second.pushed, second.pending) == (20, 0)
        assert not second.completed
        third = rt.sync_once()
        assert third.completed and third.error is None
        assert (third.pushed, third.duplicates, third.refused) == (0, 0, 0)
    finally:
        rt.close()
    assert_converged(hall, station, accepted)


def test_connection_dropped_after_the_hall_committed_is_pushed_again_as_duplicates(
    tmp_path: Path,
    hall: HallProcess,
    proxy: FaultProxy,
) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(batch_size=10)
    accepted = accept_cases(station, 30)
    rt = station.runtime(proxy.url)
    try:
        rt.sync.sign_in_online(station.staff_no, station.password)
        proxy.script(PUSH, Fault.PASS, Fault.DROP_RESPONSE)
        first = rt.sync_once()
        assert isinstance(first.error, Unreachable)
        assert (first.pushed, first.pending) == (10, 20)
        assert hall_case_count(hall) == 20  # the second batch was committed all the same
        second = rt.sync_once()
        assert second.completed and (second.pushed, second.duplicates, second.pending) == (10, 10, 0)
        # A back-office decision, whose change feed answer is lost once: pulled exactly once.
        case_no = min(
            no for no, state in station.query("SELECT case_no, state FROM cases") if state == "accepted"
        )
        assert hall_cli(hall, "cases", "decide", case_no, "approve").exit_code == 0
        proxy.script(CHANGES, Fault.DROP_RESPONSE)
        assert isinstance(rt.sync_once().error, Unreachable)
        assert rt.cases.get(case_no, TODAY).state == "accepted"
        pulled = rt.sync_once()
        assert pulled.completed and pulled.pulled >= 1
        assert rt.cases.get(case_no, TODAY).state == "approved"
        assert station.query(
            "SELECT COUNT(*) FROM audit_events WHERE subject = ? AND action = 'sync.case_state'", case_no
        ) == [(1,)]
    finally:
        rt.close()
    assert_converged(hall, station, accepted)


def test_a_timeout_leaves_the_push_queued_and_the_next_sync_counts_duplicates(
    tmp_path: Path,
    hall: HallProcess,
) -> None:
    proxy = FaultProxy(hall.url, stall_seconds=60)
    try:
        station = StationHome(tmp_path / "gxzx")
        station.configure(timeout_seconds=3)  # config.toml [sync] timeout_seconds reaches the client
        accepted = accept_cases(station, 12)
        proxy.script(PUSH, Fault.STALL)
        code, report, stderr = run_sync(station, proxy.url)
        assert code == 1
        assert "无法连接大厅服务器" in stderr and "12 项操作仍在本地排队" in stderr
        assert report == {"pushed": 0, "duplicates": 0, "refused": 0, "pulled": 0, "pending": 12}
        assert proxy.holding.is_set() and hall_case_count(hall) == 12  # the hall had committed
        code, report, stderr = run_sync(station, proxy.url)
        assert code == 0, stderr
        assert (report["pushed"], report["duplicates"], report["pending"]) == (0, 12, 0)
        assert_converged(hall, station, accepted)
    finally:
        proxy.close()


def test_a_bad_timeout_setting_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    station = StationHome(tmp_path / "gxzx")
    station.configure(timeout_seconds=0)
    result = runner.invoke(
        cli_app, ["sync", "status", "--offline", "--json"], env=station.env("http://127.0.0.1:9")
    )
    assert result.exit_code == 2
    assert "timeout_seconds" in result.stderr and "Traceback" not in result.output


def test_a_replayed_push_is_applied_once_and_a_refusal_stays_a_refusal(
    tmp_path: Path,
    hall: HallProcess,
    proxy: FaultProxy,
) -> None:
    station = StationHome(tmp_path / "gxzx")
    accepted = accept_cases(station, 9)
    rt = station.runtime(proxy.url)
    try:
        # A clerk terminates a 容缺 case without naming a supervisor: the hall refuses that.
        tolerated = min(
            no for no, s in station.query("SELECT case_no, state FROM cases") if s == "accepted_tolerated"
        )
        rt.cases.terminate(tolerated, TODAY, "overdue")
        (terminate_op,) = [
            op for (op,) in station.query("SELECT op_id FROM outbox WHERE kind = 'case.transition'")
        ]
        rt.sync.sign_in_online(station.staff_no, station.password)
        proxy.script(PUSH, Fault.REPLAY)
        proxy.script(CHANGES, Fault.REPLAY)
        report = rt.sync_once()
        # The answer the station hears is the replay's: the accepts are duplicates, the
        # refusal is the same refusal (a replay never turns it into a success).
        assert report.completed
        assert (report.pushed, report.duplicates, report.refused, report.pending) == (0, 9, 1, 0)
        (refused,) = rt.sync.refused()
        assert refused.op_id == terminate_op and refused.code in {"case.needs_supervisor", "auth.forbidden"}
        assert rt.cases.get(tolerated, TODAY).state == "accepted_tolerated"
        again = rt.sync_once()
        assert (again.pushed, again.duplicates, again.refused, again.pending) == (0, 0, 0, 0)
    finally:
        rt.close()
    assert_converged(hall, station, accepted, refused=frozenset({terminate_op}))
