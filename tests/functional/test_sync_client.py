"""Offline sync end to end: real station stores against the real hall server on loopback.

The server runs as a subprocess (tests/hall.py); the back office acts through the real
``hall-server`` CLI; faults are injected by a real proxy (tests/faultproxy.py). Nothing here
mocks a part of the system.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.approval import ApprovalAct
from models.catalog import ServiceItem
from models.enums import CaseState, ItemKind, Tolerance
from models.problems import DomainError
from models.sync import PushResponse
from offline_cache import sync_repo
from offline_cache.repositories import CaseFilter
from tests.conftest import TODAY
from tests.faultproxy import Fault, FaultProxy
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.hall import HallProcess, start_hall
from window_client.cli import app as cli_app
from window_client.hall_client import AuthRequired, HallClient, Unreachable
from window_client.services.acceptance import AcceptanceService, Outcome
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings
from window_client.services.staff import SignInError
from window_client.services.state_machine import CaseEvent
from window_client.services.sync import Backoff, SyncService, SyncStatus
from window_client.services.tolerance import TolerancePolicy

runner = CliRunner()
hall_runner = CliRunner()
CONTRACT_KEYS = ["pushed", "duplicates", "refused", "pulled", "pending"]
NOW = dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- helpers


def free_port() -> int:
    """A loopback port nobody listens on (for 'server down')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def station(tmp_path: Path, code: str, server: str, actor: str = "C001", **settings: Any) -> Runtime:
    """A station's runtime on its own store file."""
    return Runtime(
        Settings(home=tmp_path / f"station-{code}", station=code, server=server, **settings), actor=actor
    )


def instant_item(rt: Runtime) -> ServiceItem:
    """A 即办件 for a person at this station (finished at the counter)."""
    for item in rt.catalog.items.values():
        licence = any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials)
        if item.kind is ItemKind.INSTANT and rt.station.accepts(item.code) and not licence:
            return item
    raise AssertionError("the catalogue has no instant person item")


def rows(rt: Runtime, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def accept_some(rt: Runtime) -> dict[str, str]:
    """A complete, a tolerated and a not-accepted case: {case_no: state}."""
    item = tolerable_item(rt)
    tolerable = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    core = next(m for m in item.materials if m.tolerance is Tolerance.CORE)
    done = {}
    for req in (request(item), request(item, (tolerable.code,)), request(item, (core.code,))):
        decision = rt.acceptance.accept(req, TODAY)
        assert decision.case_no is not None
        done[decision.case_no] = decision.outcome.value
    assert sorted(done.values()) == ["accepted", "accepted_tolerated", "not_accepted"]
    return done


# ---------------------------------------------------------------- the hall


@pytest.fixture(scope="session")
def seeded_hall_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hall database with the demo staff, seeded once (argon2 hashing takes seconds) and
    copied for every test."""
    path = tmp_path_factory.mktemp("hall-seed") / "hall.db"
    result = hall_runner.invoke(hall_app, ["demo-data", "--db", f"sqlite:///{path}", "--json"])
    assert result.exit_code == 0, result.output
    (path.parent / "demo.json").write_text(result.stdout, encoding="utf-8")
    return path


def fresh_hall(tmp_path: Path, seeded: Path, token_ttl: int | None = None) -> HallProcess:
    """The real hall server on a free loopback port, on its own copy of the seeded database."""
    directory = tmp_path / "hall"
    directory.mkdir(parents=True, exist_ok=True)
    # The backup API copies a consistent snapshot, including what still sits in the WAL.
    with sqlite3.connect(seeded) as source, sqlite3.connect(directory / "hall.db") as target:
        source.backup(target)
    source.close()
    target.close()
    return start_hall(directory, db_url=f"sqlite:///{directory / 'hall.db'}", seed=False, token_ttl=token_ttl)


@pytest.fixture
def hall(tmp_path: Path, seeded_hall_db: Path) -> Iterator[HallProcess]:
    """The real hall server with the demo staff, stopped after the test."""
    process = fresh_hall(tmp_path, seeded_hall_db)
    try:
        yield process
    finally:
        process.stop()


def hall_cli(hall: HallProcess, *args: str) -> Result:
    """The back office: the real ``hall-server`` command (in process) on the hall's database."""
    return hall_runner.invoke(hall_app, [*args, "--db", hall.db_url])


def hall_cases(hall: HallProcess) -> dict[str, dict[str, Any]]:
    result = hall_cli(hall, "cases", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cases = data["cases"] if isinstance(data, dict) else data
    return {c["case_no"]: c for c in cases}


def online(rt: Runtime, staff_no: str = "C001", password: str = "demo-1234") -> SyncService:
    """Sign ``staff_no`` in at the hall through the station's sync service."""
    rt.sync.sign_in_online(staff_no, password)
    return rt.sync


# ---------------------------------------------------------------- push and pull


def test_offline_cases_reach_the_hall_exactly_once(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    accepted = accept_some(rt)  # offline: the hall has not been contacted yet
    assert rt.pending_operations() == 3
    sync = online(rt)
    report = rt.sync_once()
    assert report.error is None and report.completed
    assert report.as_contract()["pushed"] == 3
    assert (report.refused, report.pending) == (0, 0)
    on_hall = hall_cases(hall)
    assert {k: v["state"] for k, v in on_hall.items()} == accepted
    assert {v["station"] for v in on_hall.values()} == {"GXZX"}
    assert rows(rt, "SELECT DISTINCT status FROM outbox") == [("acked",)]
    assert all(c.synced for c in rt.cases.list_cases(CaseFilter(), TODAY))
    again = sync.run_once()
    assert (again.pushed, again.duplicates, again.refused, again.pending) == (0, 0, 0, 0)
    assert sync.status.online is True and sync.status.last_sync_at is not None
    assert len(hall_cases(hall)) == 3


def test_lost_answer_is_pushed_again_and_counted_as_duplicate(tmp_path: Path, hall: HallProcess) -> None:
    proxy = FaultProxy(hall.url)
    try:
        rt = station(tmp_path, "GXZX", proxy.url)
        accepted = accept_some(rt)
        online(rt)
        # The hall commits the batch, then the connection drops before the station hears back.
        proxy.script("/api/v1/sync/push", Fault.DROP_RESPONSE)
        first = rt.sync_once()
        assert isinstance(first.error, Unreachable)
        assert first.pending == 3  # nothing marked without an answer
        assert set(hall_cases(hall)) == set(accepted)
        second = rt.sync_once()
        assert (second.pushed, second.duplicates, second.pending) == (0, 3, 0)
        assert len(hall_cases(hall)) == 3
    finally:
        proxy.close()


def test_back_office_decision_is_pulled_into_the_local_case(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = tolerable_item(rt)
    case_no = rt.acceptance.accept(request(item), TODAY).case_no
    assert case_no
    online(rt)
    assert rt.sync_once().completed
    decided = hall_cli(hall, "cases", "decide", case_no, "approve")
    assert decided.exit_code == 0, decided.output
    report = rt.sync_once()
    assert report.completed and report.pulled >= 1
    case = rt.cases.get(case_no, TODAY)
    assert case.state == CaseState.APPROVED and case.synced
    actions = [h.action for h in rt.cases.detail(case_no, TODAY).history]
    assert actions == ["case.accepted", "sync.case_state"]
    assert rows(rt, "SELECT COUNT(*) FROM outbox WHERE case_no = ?", case_no) == [(1,)]  # no echo op
    # Pulling again changes nothing (the cursor moved with the changes).
    assert rt.sync_once().pulled == 0


def test_refused_operation_is_kept_listed_and_acknowledged(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = instant_item(rt)  # a station may finish only a 即办件 itself
    case_no = rt.acceptance.accept(request(item), TODAY).case_no
    assert case_no
    online(rt)
    assert rt.sync_once().completed
    # The back office refuses the case while the counter, not yet synced, approves it.
    assert hall_cli(hall, "cases", "decide", case_no, "refuse").exit_code == 0
    rt.cases.transition(case_no, CaseEvent.APPROVE, TODAY, at_counter=True)
    report = rt.sync_once()
    assert (report.pushed, report.refused, report.pending) == (0, 1, 0)
    (refused,) = rt.sync.refused()
    assert refused.case_no == case_no and refused.event == "approve"
    assert refused.code == "case.conflict" and refused.reason
    assert refused.action_zh.startswith("大厅已按规则采用另一项变更")
    # The hall's state wins locally, the approval is kept (never re-sent, never deleted).
    assert rt.cases.get(case_no, TODAY).state == CaseState.REFUSED
    assert rows(rt, "SELECT status FROM outbox WHERE op_id = ?", refused.op_id) == [("conflict",)]
    assert rt.sync_once().pushed == 0
    assert hall_cases(hall)[case_no]["state"] == "refused"
    assert rt.sync.status.refused == 1 and not rt.cases.get(case_no, TODAY).synced
    reviewed = rt.sync.acknowledge(refused.op_id, "S001")
    assert reviewed.reviewed_by == "S001"
    assert rt.sync.refused() == []
    assert [r.op_id for r in rt.sync.refused(include_reviewed=True)] == [refused.op_id]
    assert rows(rt, "SELECT actor FROM audit_events WHERE action = 'sync.refused_reviewed'") == [("S001",)]
    assert rt.cases.get(case_no, TODAY).synced


def test_termination_without_a_supervisor_is_refused_and_shown(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    case_no = rt.acceptance.accept(request(item, (missing.code,)), TODAY).case_no
    assert case_no
    rt.cases.terminate(case_no, TODAY, "overdue")  # a clerk, naming no supervisor
    online(rt)
    report = rt.sync_once()
    assert (report.pushed, report.refused) == (1, 1)
    (refused,) = rt.sync.refused()
    assert refused.code in {"case.needs_supervisor", "auth.forbidden"}
    assert "值班长" in refused.action_zh
    # The hall never terminated it: the station shows the hall's state again, and the
    # applicant's commitment is open again rather than counted as broken.
    case = rt.cases.get(case_no, TODAY)
    assert case.state == CaseState.ACCEPTED_TOLERATED and case.closed_by is None
    assert rt.acceptance.standing_of(case.applicant_id).unfulfilled_commitments == 0
    assert rows(rt, "SELECT open_commitments FROM applicants WHERE applicant_id = ?", case.applicant_id) == [
        (1,)
    ]


def test_one_unreadable_operation_does_not_hold_up_the_queue(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    accepted = accept_some(rt)
    (broken,) = rows(rt, "SELECT op_id FROM outbox ORDER BY seq LIMIT 1 OFFSET 1")[0]
    conn = sqlite3.connect(rt.store.path)
    with conn:  # a damaged row (disk trouble, a bad hand edit): JSON that no longer parses
        conn.execute("UPDATE outbox SET payload = '{\"case_no\": }' WHERE op_id = ?", (broken,))
    conn.close()
    online(rt)
    report = rt.sync_once()
    assert report.completed and (report.pushed, report.refused, report.pending) == (2, 1, 0)
    (refused,) = rt.sync.refused()
    assert refused.op_id == broken and refused.reason.startswith("大厅拒收该操作")
    assert len(hall_cases(hall)) == 2 and set(hall_cases(hall)) < set(accepted)


# ---------------------------------------------------------------- sign-in and tokens


def test_online_sign_in_caches_the_hash_for_offline_sign_in(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    assert rt.staff.count() == 0
    member = rt.sync.sign_in_online("S001", "demo-5678")
    assert member.is_supervisor
    assert rows(rt, "SELECT role, last_online_login IS NOT NULL FROM staff WHERE staff_no = 'S001'") == [
        ("supervisor", 1)
    ]
    with pytest.raises(SignInError):
        rt.sync.sign_in_online("S001", "wrong-password")
    hall.stop()
    offline = rt.staff.sign_in("S001", "demo-5678")  # against the hash cached above
    assert offline.is_supervisor
    member, was_online = rt.sync.sign_in("S001", "demo-5678", rt.staff.sign_in)
    assert not was_online and member.staff_no == "S001"


class ExpiringClient(HallClient):
    """A real client whose token stops being valid after its first push (as at the end of a
    shift): the hall then answers 401 for the next batch."""

    expire_after_push = True

    def push_encoded(self, body: str, op_ids: Sequence[str]) -> PushResponse:
        answer = super().push_encoded(body, op_ids)
        if self.expire_after_push:
            self.expire_after_push = False
            self.token = "expired-" + (self.token or "")
        return answer


def test_expired_token_pauses_the_sync_and_it_resumes_after_sign_in(
    tmp_path: Path, hall: HallProcess
) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    accepted = accept_some(rt)
    client = ExpiringClient(hall.url)
    sync = SyncService(rt.store, "GXZX", hall.url, client=client, batch_size=2)
    sync.sign_in_online("C001", "demo-1234")
    report = sync.run_once()
    assert isinstance(report.error, AuthRequired)
    assert (report.pushed, report.pending) == (2, 1)
    status = sync.status
    assert status.auth_required and status.last_error and "重新登录" in status.last_error
    assert not sync.engine.due()  # no automatic retries until someone signs in
    assert rows(rt, "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status") == [
        ("acked", 2),
        ("pending", 1),
    ]
    assert len(hall_cases(hall)) == 2
    sync.sign_in_online("C001", "demo-1234")
    assert not sync.status.auth_required and sync.engine.due()
    resumed = sync.run_once()
    assert resumed.completed and (resumed.pushed, resumed.duplicates, resumed.pending) == (1, 0, 0)
    assert set(hall_cases(hall)) == set(accepted)
    sync.close()


def test_token_expiry_at_the_hall_pauses_until_staff_sign_in_again(
    tmp_path: Path, seeded_hall_db: Path
) -> None:
    hall = fresh_hall(tmp_path, seeded_hall_db, token_ttl=1)
    try:
        rt = station(tmp_path, "GXZX", hall.url, sync_batch_size=1)
        accepted = accept_some(rt)
        sync = online(rt)
        expires = sync.client.token_expires_at
        assert expires is not None
        while dt.datetime.now(dt.UTC) <= expires + dt.timedelta(milliseconds=200):
            time.sleep(0.1)  # waiting for the hall's clock, not asserting on time
        report = rt.sync_once()
        assert isinstance(report.error, AuthRequired) and report.error.code == "token.expired"
        assert (report.pushed, report.pending) == (0, 3)
        assert rt.sync.status.auth_required
        assert rows(rt, "SELECT DISTINCT status FROM outbox") == [("pending",)]
        # A one-second token may lapse again mid-run: each sign-in resumes where the last stopped.
        for _ in range(20):
            online(rt)
            report = rt.sync_once()
            if report.completed:
                break
            assert isinstance(report.error, AuthRequired)
        assert report.completed and report.pending == 0
        assert rows(rt, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("acked", 3)]
        assert {k: v["state"] for k, v in hall_cases(hall).items()} == accepted
    finally:
        hall.stop()


def test_invalid_token_is_auth_required_and_nothing_is_marked(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    accept_some(rt)
    rt.sync.client.token = "not-a-token"
    report = rt.sync_once()
    assert isinstance(report.error, AuthRequired) and report.error.code == "auth.invalid"
    assert rt.sync.status.auth_required
    assert rows(rt, "SELECT DISTINCT status FROM outbox") == [("pending",)]
    online(rt)
    assert rt.sync_once().pushed == 3


# ---------------------------------------------------------------- offline


def test_server_down_goes_offline_with_backoff_and_loses_nothing(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    clock = [NOW]
    rt.__dict__["sync"] = SyncService(
        rt.store, "GXZX", hall.url, clock=lambda: clock[0], backoff=Backoff(jitter=0.0)
    )
    online(rt)
    accepted = accept_some(rt)
    seen: list[SyncStatus] = []
    rt.sync.engine.subscribe(seen.append)
    hall.kill()
    first = rt.sync_once()
    assert isinstance(first.error, Unreachable) and first.pending == 3
    assert seen[0].running and not seen[-1].running  # the status bar sees the run start and end
    status = rt.sync.status
    assert status == seen[-1] and status.pending == 3
    assert status.online is False and status.last_error and "离线" in status.last_error
    assert status.next_retry_at == NOW + dt.timedelta(seconds=2)
    assert not rt.sync.engine.due(NOW + dt.timedelta(seconds=1))
    second = rt.sync_once()
    assert rt.sync.status.next_retry_at == NOW + dt.timedelta(seconds=4)  # the wait doubles
    assert second.pending == 3
    # Work continues offline: another case queues up.
    item = tolerable_item(rt)
    assert rt.acceptance.accept(request(item), TODAY).outcome is Outcome.ACCEPTED
    assert rt.pending_operations() == 4
    hall.restart()
    clock[0] = NOW + dt.timedelta(seconds=5)
    assert rt.sync.engine.due()
    online(rt)
    back = rt.sync_once()
    assert back.completed and (back.pushed, back.pending) == (4, 0)
    assert rt.sync.status.online and rt.sync.status.last_error is None
    assert rt.sync.status.next_retry_at is None
    assert set(accepted) <= set(hall_cases(hall))


# ---------------------------------------------------------------- staleness (日结 rule)


def test_station_that_has_not_synced_refuses_new_cases_until_it_syncs(
    tmp_path: Path, hall: HallProcess
) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = tolerable_item(rt)
    first = rt.acceptance.accept(request(item), TODAY)
    assert first.outcome is Outcome.ACCEPTED
    with rt.store.reading() as conn:
        created = sync_repo.parse_time(sync_repo.get_meta(conn, sync_repo.CREATED_KEY))
    assert created is not None and abs(created - NOW) < dt.timedelta(minutes=5)
    assert rt.acceptance.staleness() is None
    six_days_on = created + dt.timedelta(days=6, minutes=1)
    later = AcceptanceService(
        rt.store, rt.catalog, rt.calendar, rt.station, "C001", clock=lambda: six_days_on
    )
    problem = later.staleness()
    assert problem is not None and problem.code == "sync.stale_never"
    assert "已超过6天" in problem.zh() and "请先同步" in problem.zh()
    with pytest.raises(DomainError) as refused:
        later.accept(request(item), TODAY)
    assert "sync" in refused.value.problem.en()
    assert rt.cases.count(CaseFilter()) == 1  # the data stays readable; nothing was written
    # The station syncs on that sixth day (the sync records its own clock's time).
    rt.__dict__["sync"] = SyncService(rt.store, "GXZX", hall.url, clock=lambda: six_days_on)
    online(rt)
    assert rt.sync_once().completed
    assert later.staleness() is None
    assert later.accept(request(item), TODAY).outcome is Outcome.ACCEPTED
    # Six more days without a sync, counted from the last one this time.
    much_later = AcceptanceService(
        rt.store,
        rt.catalog,
        rt.calendar,
        rt.station,
        "C001",
        clock=lambda: six_days_on + dt.timedelta(days=6),
    )
    stale = much_later.staleness()
    assert stale is not None and stale.code == "sync.stale"


def test_batch_refuses_a_stale_station_with_a_clear_message(home: Path, tmp_path: Path) -> None:
    rt = Runtime(Settings.from_env(), actor="C001")
    long_ago = (NOW - dt.timedelta(days=9)).isoformat()
    with rt.store.transaction("test") as unit:
        sync_repo.set_meta(unit, sync_repo.CREATED_KEY, long_ago)
    item = tolerable_item(rt)
    rt.close()
    path = tmp_path / "rows.csv"
    materials = ";".join(m.code for m in item.materials if m.tolerance is not Tolerance.OPTIONAL)
    path.write_text(
        "item_code,applicant_type,applicant_id,applicant_name,phone,materials,commitment\n"
        f"{item.code},person,{person_id(random.Random(3))},王小明,13800138000,{materials},no\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli_app, ["batch", "accept", str(path)])
    assert result.exit_code == 1
    assert "从未与大厅同步" in result.output and "暂停受理新办件" in result.output  # Chinese by default
    status = runner.invoke(cli_app, ["sync", "status", "--json", "--offline"])
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert data["accepting"] is False and data["pending"] == 0 and data["online"] is None


# ---------------------------------------------------------------- 一处失信，处处受限


def test_a_broken_commitment_at_one_station_is_known_at_another(
    tmp_path: Path, hall: HallProcess, seeded_hall_db: Path
) -> None:
    seed = json.loads((seeded_hall_db.parent / "demo.json").read_text(encoding="utf-8"))
    other = next(s for s in seed["staff"] if s["station"] != "GXZX" and s["role"] == "clerk")
    a = station(tmp_path, "GXZX", hall.url)
    b = station(tmp_path, other["station"], hall.url, actor=other["staff_no"])
    item = tolerable_item(a)
    assert b.station.accepts(item.code)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    pid = person_id(random.Random(7))
    tolerated = a.acceptance.accept(request(item, (missing.code,), pid=pid), TODAY)
    assert tolerated.outcome is Outcome.ACCEPTED_TOLERATED and tolerated.case_no
    supervisor = a.sync.sign_in_online("S001", "demo-5678")  # signs at the counter
    approval = supervisor.approve(ApprovalAct.TERMINATE, tolerated.case_no)
    a.cases.terminate(tolerated.case_no, TODAY, "申请人放弃补正", approval=approval)
    online(a)
    assert a.sync_once().refused == 0
    # Before B syncs it knows nothing of the applicant; afterwards the broken commitment counts.
    assert b.acceptance.standing_of(pid).unfulfilled_commitments == 0
    online(b, other["staff_no"], other["password"])
    assert b.sync_once().completed
    assert b.acceptance.standing_of(pid).unfulfilled_commitments == 1
    decision = b.acceptance.decide(
        request(item, (missing.code,), pid=pid), TODAY, b.acceptance.standing_of(pid)
    )
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert "verdict.unfulfilled" in {p.code for p in decision.problems}
    # A station whose policy refuses such applicants does not offer tolerance at all.
    b.close()
    strict = station(
        tmp_path,
        other["station"],
        hall.url,
        other["staff_no"],
        policy=TolerancePolicy(on_unfulfilled="refuse"),
    )
    refused = strict.acceptance.accept(request(item, (missing.code,), pid=pid), TODAY)
    assert refused.outcome is Outcome.NOT_ACCEPTED
    # A's own record stays its own: A ignores the hall's echo of its standing.
    assert rows(a, "SELECT COUNT(*) FROM remote_standings WHERE station = 'GXZX'") == [(0,)]


# ---------------------------------------------------------------- calendar and catalogue


def test_published_holidays_are_pulled_into_the_calendar(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    year = 2031
    assert not rt.calendar.knows(year)
    arrangement = tmp_path / "2031.json"
    arrangement.write_text(
        json.dumps(
            {
                "year": year,
                "source": "国务院办公厅关于2031年部分节假日安排的通知",
                "holidays": [{"name": "元旦", "dates": ["2031-01-01"]}],
                "workdays": [{"name": "元旦", "dates": ["2031-01-04"]}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    published = hall_cli(hall, "holidays", "publish", str(arrangement))
    assert published.exit_code == 0, published.output
    online(rt)
    report = rt.sync_once()
    assert report.calendar_changed
    assert rt.calendar.knows(year)
    assert rt.calendar.is_workday(dt.date(2031, 1, 4))  # 调休: a Saturday worked
    assert not rt.calendar.is_workday(dt.date(2031, 1, 1))
    assert rows(rt, "SELECT action FROM audit_events WHERE subject = '2031'") == [("calendar.import",)]


def test_published_catalogue_replaces_the_shipped_one(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    shipped = rt.catalog
    data = json.loads((Path(__file__).parents[2] / "models" / "data" / "catalog.json").read_text("utf-8"))
    data["version"] = "2027.1.1"
    first = data["items"][0]
    first["name"] = first["name"] + "（新版）"
    published_file = tmp_path / "catalog.json"
    published_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    published = hall_cli(hall, "catalog", "publish", str(published_file))
    assert published.exit_code == 0, published.output
    online(rt)
    report = rt.sync_once()
    assert report.completed and report.catalog_changed
    assert rt.catalog.version == "2027.1.1" != shipped.version
    assert rt.catalog.items[first["code"]].name.endswith("（新版）")
    # A new runtime on the same store (the next start of the counter) uses the cached one too.
    again = station(tmp_path, "GXZX", hall.url)
    assert again.catalog.version == "2027.1.1"
    assert rt.sync_once().catalog_changed is False


# ---------------------------------------------------------------- the CLI contract


def test_sync_json_contract_and_exit_codes(
    home: Path, hall: HallProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(Settings.from_env(), actor="C001")
    accept_some(rt)
    rt.close()
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "not-the-password")
    wrong = runner.invoke(cli_app, ["--lang", "en", "sync", "--server", hall.url, "--json"])
    assert wrong.exit_code == 2 and "refused the sign-in of C001" in wrong.stderr
    assert wrong.stdout == ""
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    result = runner.invoke(cli_app, ["sync", "--server", hall.url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == CONTRACT_KEYS
    assert data == {"pushed": 3, "duplicates": 0, "refused": 0, "pulled": data["pulled"], "pending": 0}
    again = json.loads(runner.invoke(cli_app, ["sync", "--server", hall.url, "--json"]).stdout)
    assert (again["pushed"], again["pending"]) == (0, 0)
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", hall.url)
    status = runner.invoke(cli_app, ["sync", "status", "--json"])
    assert json.loads(status.stdout)["online"] is True
    listed = runner.invoke(cli_app, ["sync", "refused", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == {"refused": []}


def test_sync_cli_refused_operations_exit_1_and_are_listed(
    home: Path, hall: HallProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", hall.url)
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    rt = Runtime(Settings.from_env(), actor="C001")
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    case_no = rt.acceptance.accept(request(item, (missing.code,)), TODAY).case_no
    assert case_no
    rt.cases.terminate(case_no, TODAY, "overdue")
    rt.close()
    result = runner.invoke(cli_app, ["sync", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["refused"] == 1
    assert "大厅拒收了 1 项操作" in result.stderr and "sync refused" in result.stderr
    listed = json.loads(runner.invoke(cli_app, ["sync", "refused", "--json"]).stdout)["refused"]
    assert [r["case_no"] for r in listed] == [case_no]
    assert listed[0]["reason"] and listed[0]["action"] and listed[0]["action_zh"]
    # The table speaks the clerk's language: what to do in Chinese, or in English on request.
    table = runner.invoke(cli_app, ["sync", "refused"])
    assert "原因" in table.stdout and listed[0]["action_zh"][:3] in table.stdout
    english = runner.invoke(cli_app, ["--lang", "en", "sync", "refused"])
    assert "reason" in english.stdout and listed[0]["action"][:5] in english.stdout
    unknown = runner.invoke(cli_app, ["sync", "acknowledge", "ffffffffffff"])
    assert unknown.exit_code == 2 and "没有被拒收的操作" in unknown.stderr
    unknown = runner.invoke(cli_app, ["--lang", "en", "sync", "acknowledge", "ffffffffffff"])
    assert unknown.exit_code == 2 and "no refused operation" in unknown.stderr
    ack = runner.invoke(cli_app, ["--lang", "en", "sync", "acknowledge", listed[0]["op_id"][:10]])
    assert ack.exit_code == 0 and "reviewed by C001" in ack.stdout
    assert json.loads(runner.invoke(cli_app, ["sync", "refused", "--json"]).stdout) == {"refused": []}


def test_sync_cli_usage_errors_and_unreachable_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_credentials = runner.invoke(cli_app, ["sync"])
    assert no_credentials.exit_code == 2 and "WINDOW_CLIENT_USER" in no_credentials.stderr
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    for bad in ("ftp://127.0.0.1/", "http://", "127.0.0.1:8765", "http://127.0.0.1:99999"):
        result = runner.invoke(cli_app, ["sync", "--server", bad])
        assert result.exit_code == 2, bad
        assert "大厅服务器地址" in result.stderr and "Traceback" not in result.output
        english = runner.invoke(cli_app, ["--lang", "en", "sync", "--server", bad])
        assert english.exit_code == 2 and "server URL" in english.stderr, bad
    rt = Runtime(Settings.from_env(), actor="C001")
    accept_some(rt)
    rt.close()
    down = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(cli_app, ["sync", "--server", down, "--json"])
    assert result.exit_code == 1
    assert "无法连接大厅服务器" in result.stderr and "3 项操作仍在本地排队" in result.stderr
    assert json.loads(result.stdout) == {
        "pushed": 0,
        "duplicates": 0,
        "refused": 0,
        "pulled": 0,
        "pending": 3,
    }
    status = json.loads(runner.invoke(cli_app, ["sync", "--server", down, "status", "--json"]).stdout)
    assert status["online"] is False and status["pending"] == 3 and status["last_sync_at"] is None
