"""The pull appliers on a real store: each change applied twice leaves what one application left
(a crash between applying and hearing back, or a re-pulled page, is harmless)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from models.enums import CaseState, Tolerance
from models.sync import Change, ChangeKind, Operation, OperationKind
from offline_cache import sync_repo
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.hall_client import HallClient
from window_client.services.runtime import Runtime
from window_client.services.sync import KNOWN_KINDS, SyncEngine, SyncReport, encode_operation

AT = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(rt: Runtime) -> Iterator[SyncEngine]:
    # The client is never called by the appliers of inline changes: nothing listens on port 9.
    client = HallClient("http://127.0.0.1:9")
    yield SyncEngine(rt.store, client, rt.station.code)
    client.close()


def apply_twice(
    rt: Runtime, engine: SyncEngine, change: Change, fetched: dict[str, Any] | None = None
) -> None:
    for _ in range(2):
        with rt.store.transaction("sync") as unit:
            engine.apply(unit, change, fetched or {}, SyncReport())


def change(seq: int, kind: ChangeKind, key: str, payload: dict[str, Any]) -> Change:
    return Change(seq=seq, kind=kind, key=key, payload=payload, at=AT)


def rows(rt: Runtime, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def tolerated_case(rt: Runtime) -> str:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    case_no = rt.acceptance.accept(request(item, (missing.code,)), TODAY).case_no
    assert case_no is not None
    # As after a push: the accept operation is acknowledged.
    with rt.store.transaction("sync") as unit:
        sync_repo.record_push_results(unit, [sync_repo.PushOutcome(op, "applied") for (op,) in _ops(rt)])
    return case_no


def _ops(rt: Runtime) -> list[tuple[str]]:
    return [(str(r[0]),) for r in rows(rt, "SELECT op_id FROM outbox WHERE status = 'pending'")]


def test_case_state_is_adopted_once_with_one_audit_event_and_no_outbox_op(
    rt: Runtime, engine: SyncEngine
) -> None:
    case_no = tolerated_case(rt)
    payload = {
        "case_no": case_no,
        "state": "terminated",
        "event": "terminate",
        "by": "S001",
        "on": "2026-11-25",
    }
    apply_twice(rt, engine, change(7, ChangeKind.CASE_STATE, case_no, {**payload, "version": 2}))
    assert rows(rt, "SELECT state, closed_by, synced FROM cases WHERE case_no = ?", case_no) == [
        ("terminated", "S001", 1)
    ]
    assert rows(rt, "SELECT actor FROM audit_events WHERE action = 'sync.case_state'") == [("S001",)]
    assert rows(rt, "SELECT COUNT(*) FROM outbox WHERE case_no = ?", case_no) == [(1,)]  # the accept only
    # The broken commitment is counted once, as a local 终止 would count it.
    applicant = rows(rt, "SELECT applicant_id FROM cases WHERE case_no = ?", case_no)[0][0]
    assert rows(
        rt,
        "SELECT open_commitments, unfulfilled_commitments FROM applicants WHERE applicant_id = ?",
        applicant,
    ) == [(0, 1)]


def test_case_state_waits_while_local_operations_are_pending(rt: Runtime, engine: SyncEngine) -> None:
    case_no = tolerated_case(rt)
    rt.cases.terminate(case_no, TODAY, "overdue")  # queued locally, not yet pushed
    apply_twice(
        rt, engine, change(8, ChangeKind.CASE_STATE, case_no, {"case_no": case_no, "state": "withdrawn"})
    )
    assert rows(rt, "SELECT state FROM cases WHERE case_no = ?", case_no) == [("terminated",)]


def test_case_state_of_another_stations_case_is_ignored(rt: Runtime, engine: SyncEngine) -> None:
    apply_twice(
        rt, engine, change(9, ChangeKind.CASE_STATE, "JHZX-1", {"case_no": "JHZX-1", "state": "approved"})
    )
    assert rows(rt, "SELECT COUNT(*) FROM cases") == [(0,)]
    assert rows(rt, "SELECT COUNT(*) FROM pulled_changes") == [(0,)]


def test_conflict_is_recorded_once_and_moves_the_acked_operation_to_the_refused_list(
    rt: Runtime, engine: SyncEngine
) -> None:
    case_no = tolerated_case(rt)
    (op_id,) = rows(rt, "SELECT op_id FROM outbox WHERE case_no = ?", case_no)[0]
    payload = {
        "op_id": op_id,
        "case_no": case_no,
        "reason": "撤回优先",
        "code": "case.conflict",
        "winner_op_id": "abcdef0123",
        "winner_event": "withdraw",
        "state": "withdrawn",
    }
    apply_twice(rt, engine, change(10, ChangeKind.CASE_CONFLICT, op_id, payload))
    assert rows(rt, "SELECT op_id, case_no, code, reason, winner FROM sync_conflicts") == [
        (op_id, case_no, "case.conflict", "撤回优先", "withdraw:abcdef0123")
    ]
    assert rows(rt, "SELECT status, code FROM outbox WHERE op_id = ?", op_id) == [
        ("conflict", "case.conflict")
    ]
    assert rows(rt, "SELECT COUNT(*) FROM audit_events WHERE action = 'sync.conflict'") == [(1,)]
    refused = rt.sync.refused()
    assert [(r.op_id, r.winner) for r in refused] == [(op_id, "withdraw:abcdef0123")]
    assert refused[0].action_zh.startswith("大厅已按规则采用另一项变更")


def test_other_stations_standing_is_upserted_and_this_stations_ignored(
    rt: Runtime, engine: SyncEngine
) -> None:
    pid = "110101199003077777"
    other = {"applicant_id": pid, "station": "JHZX", "open_commitments": 0, "unfulfilled_commitments": 1}
    apply_twice(rt, engine, change(11, ChangeKind.APPLICANT_STANDING, pid, {**other, "dishonest": False}))
    own = {**other, "station": rt.station.code, "unfulfilled_commitments": 5}
    apply_twice(rt, engine, change(12, ChangeKind.APPLICANT_STANDING, pid, own))
    assert rows(rt, "SELECT station, unfulfilled_commitments FROM remote_standings") == [("JHZX", 1)]
    assert rt.acceptance.standing_of(pid).unfulfilled_commitments == 1
    # An older change arriving late does not overwrite a newer one.
    apply_twice(
        rt, engine, change(5, ChangeKind.APPLICANT_STANDING, pid, {**other, "unfulfilled_commitments": 0})
    )
    assert rt.acceptance.standing_of(pid).unfulfilled_commitments == 1


def test_holiday_arrangement_is_saved_like_a_calendar_import(rt: Runtime, engine: SyncEngine) -> None:
    arrangement = {
        "year": 2031,
        "source": "国务院办公厅关于2031年部分节假日安排的通知",
        "holidays": [{"name": "元旦", "dates": ["2031-01-01"]}],
        "workdays": [{"name": "元旦", "dates": ["2031-01-04"]}],
    }
    apply_twice(
        rt,
        engine,
        change(13, ChangeKind.HOLIDAYS, "2031", {"year": 2031, "version": 1, "arrangement": arrangement}),
    )
    assert rows(rt, "SELECT day, kind FROM holiday_days WHERE year = 2031 ORDER BY day") == [
        ("2031-01-01", "holiday"),
        ("2031-01-04", "workday"),
    ]
    rt.refresh()
    assert rt.calendar.knows(2031)
    assert not rt.calendar.is_workday(dt.date(2031, 1, 1))


def test_keys_and_certificates_are_kept_verbatim_once(rt: Runtime, engine: SyncEngine) -> None:
    key = {"key_id": "GXZX-2026-1", "public_key": "04ab", "station": "GXZX"}
    apply_twice(rt, engine, change(14, ChangeKind.KEY_PUBLISHED, "GXZX-2026-1", key))
    with rt.store.reading() as conn:
        assert sync_repo.raw_changes(conn, ["key.published"]) == [
            (14, "key.published", "GXZX-2026-1", key, AT.isoformat())
        ]


def test_malformed_case_state_is_kept_not_dropped(rt: Runtime, engine: SyncEngine) -> None:
    apply_twice(rt, engine, change(15, ChangeKind.CASE_STATE, "X", {"case_no": "X", "state": "flying"}))
    assert rows(rt, "SELECT seq, kind FROM pulled_changes") == [(15, "case.state")]


def test_adopting_a_state_needs_no_state_machine_path(rt: Runtime, engine: SyncEngine) -> None:
    """The server's fold is the authority: a back-office approval of an accepted case lands."""
    item = tolerable_item(rt)
    case_no = rt.acceptance.accept(request(item), TODAY).case_no
    assert case_no
    with rt.store.transaction("sync") as unit:
        sync_repo.record_push_results(unit, [sync_repo.PushOutcome(op, "applied") for (op,) in _ops(rt)])
    apply_twice(
        rt, engine, change(16, ChangeKind.CASE_STATE, case_no, {"case_no": case_no, "state": "approved"})
    )
    assert rt.cases.get(case_no, TODAY).state == CaseState.APPROVED


def test_encoded_operations_are_what_the_protocol_model_reads(rt: Runtime) -> None:
    """The push body is built from the stored JSON without parsing it; the server must read
    exactly the operation the outbox holds (same body hash, so re-pushes are duplicates)."""
    tolerated_case(rt)
    item = tolerable_item(rt)
    rt.acceptance.accept(request(item), TODAY)
    with rt.store.reading() as conn:
        entries = sync_repo.pending_batch(conn, KNOWN_KINDS, 10)
    assert entries
    for entry in entries:
        decoded = Operation.model_validate_json(encode_operation(entry))
        expected = Operation(
            op_id=entry.op_id,
            seq=entry.seq,
            kind=OperationKind(entry.kind),
            case_no=entry.case_no,
            payload=json.loads(entry.payload),
            created_at=entry.created_at,
        )
        assert decoded == expected
        assert decoded.body_hash() == expected.body_hash()


@pytest.mark.parametrize(
    ("field", "value"),
    [("op_id", "short"), ("op_id", "has space in it"), ("kind", "case.teleport"), ("payload", "[1, 2]")],
)
def test_rows_the_protocol_cannot_carry_are_refused_locally(field: str, value: str) -> None:
    entry = sync_repo.OutboxEntry(1, "a" * 32, "case.accept", "GXZX-1", "{}", "2026-11-20T00:00:00+00:00")
    with pytest.raises(ValueError):
        encode_operation(dataclasses.replace(entry, **{field: value}))
