"""Crash safety of batch acceptance: kill -9 the real CLI mid-batch, again and again, then let
it finish; nothing accepted is lost and nothing is accepted twice (DESIGN.md §4, §6).

Every assertion reads what a user or the database sees: the CLI's exit codes and JSON reports,
and the station's SQLite file.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from window_client.services.batch import REQUIRED_COLUMNS
from window_client.services.catalog import load_shipped_catalog
from window_client.services.samples import sample_rows, write_csv

TODAY = "2026-11-20"
ROWS = 3000
WRITTEN = ("accepted", "accepted_tolerated", "not_accepted")
_SCRIPT = Path(sys.executable).with_name("window-client")
CLI = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from window_client.cli import main; main()"]
)
# Delays are random; the seed is printed with every failure so a run can be replayed.
SEED = int(os.environ.get("BATCH_KILL_SEED") or random.SystemRandom().randrange(1 << 30))


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOW_CLIENT_")}
    env["WINDOW_CLIENT_HOME"] = str(home)
    return env


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=_env(home), capture_output=True, text=True, timeout=120, check=False
    )


def _accept(batch: Path, home: Path, report: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _cli("batch", "accept", str(batch), "--today", TODAY, "--report", str(report), *extra,
                home=home)  # fmt: skip


def _start(batch: Path, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "batch", "accept", str(batch), "--today", TODAY],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the run if it is still going; True when it was killed mid-run."""
    if proc.poll() is None:
        proc.kill()  # SIGKILL: no cleanup, no atexit, no rollback by the process itself
    code = proc.wait(timeout=30)
    return code == -9


def _poll_count(db: Path) -> int | None:
    """Cases committed so far; None while the store cannot be read (not created yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=0.2)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not migrated yet, or busy for a moment
        return None


def _case_count(db: Path) -> int:
    count = _poll_count(db)
    assert count is not None, f"{db} cannot be read"
    return count


def _query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_batch(tmp_path: Path, with_ref: bool) -> tuple[Path, list[dict[str, str]]]:
    rows = list(sample_rows(load_shipped_catalog(), ROWS, seed=20261120))
    batch = tmp_path / ("with_ref.csv" if with_ref else "no_ref.csv")
    if with_ref:
        write_csv(iter(rows), batch)
    else:
        # No external_ref column: re-runs are recognised by the file's fingerprint + row number.
        rows = [{k: v for k, v in row.items() if k != "external_ref"} for row in rows]
        with batch.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(REQUIRED_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    return batch, rows


def check_store_matches(
    db: Path,
    rows: list[dict[str, str]],
    planned: dict[int, str],
    final: dict[int, dict[str, Any]],
) -> None:
    """The store holds exactly one case per row the dry run said would be written, as the
    final run reports it, with one outbox operation and one audit event each."""
    written_rows = sorted(n for n, status in planned.items() if status in WRITTEN)
    cases = {
        case_no: (state, item, applicant, key)
        for case_no, state, item, applicant, key in _query(
            db, "SELECT case_no, state, item_code, applicant_id, dedupe_key FROM cases"
        )
    }
    [(total,)] = _query(db, "SELECT COUNT(*) FROM cases")
    assert total == len(cases), "case_no values are not unique"
    assert total == len(written_rows), f"{total} cases for {len(written_rows)} decided rows"
    keys = Counter(key for *_, key in cases.values())
    assert None not in keys, "a batch case without its dedupe key"
    assert [k for k, n in keys.items() if n > 1] == []
    states = Counter(state for state, *_ in cases.values())
    assert states == Counter(planned[n] for n in written_rows), "case states differ from the plan"

    # Every decided row is reported with its own case, and that case is the row's.
    seen: dict[str, int] = {}
    for number, status in planned.items():
        line = final[number]
        if status not in WRITTEN:
            assert line["status"] == status, (number, line)
            continue
        assert line["status"] in (status, "duplicate"), (number, status, line)
        case_no = line["case_no"]
        assert case_no in cases, (number, line)
        assert case_no not in seen, f"rows {seen.get(case_no)} and {number} share {case_no}"
        seen[case_no] = number
        state, item, applicant, _key = cases[case_no]
        row = rows[number - 1]
        assert (state, item, applicant) == (
            status,
            row["item_code"],
            row["applicant_id"].strip().upper(),
        ), (number, case_no)
    assert set(seen) == set(cases)

    # One outbox operation and one audit event per case, and nothing else.
    ops = Counter(
        case_no for (case_no,) in _query(db, "SELECT case_no FROM outbox WHERE kind = 'case.accept'")
    )
    assert ops == Counter(set(cases)), "outbox 'case.accept' operations do not match the cases"
    assert _query(db, "SELECT COUNT(*) FROM outbox") == [(len(cases),)]
    events = Counter(
        (subject, action) for subject, action in _query(db, "SELECT subject, action FROM audit_events")
    )
    want_events = Counter({(c, f"case.{s}"): 1 for c, (s, *_) in cases.items()})
    assert events == want_events, "audit events do not match the cases one to one"
    orphans = _query(
        db, "SELECT COUNT(*) FROM case_materials WHERE case_no NOT IN (SELECT case_no FROM cases)"
    )
    assert orphans == [(0,)]


@pytest.mark.parametrize("with_ref", [True, False], ids=["external_ref", "file_fingerprint"])
def test_kill_during_batch_loses_and_duplicates_nothing(tmp_path: Path, with_ref: bool) -> None:
    rng = random.Random(SEED + with_ref)
    where = f"(BATCH_KILL_SEED={SEED})"
    batch, rows = _write_batch(tmp_path, with_ref)

    # What a clean run would decide, from a dry run against a fresh, empty home.
    fresh = tmp_path / "fresh"
    dry = _accept(batch, fresh, tmp_path / "dry.json", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    plan = _report(tmp_path / "dry.json")
    planned = {line["row"]: line["status"] for line in plan["rows"]}
    assert sorted(planned) == list(range(1, ROWS + 1))
    summary = plan["summary"]
    assert all(summary[s] > 0 for s in (*WRITTEN, "invalid")), summary  # a realistic mix
    assert summary["duplicate"] == 0
    expected = sum(summary[s] for s in WRITTEN)
    assert _case_count(fresh / "station.db") == 0  # the dry run wrote nothing

    home = tmp_path / "home"
    db = home / "station.db"

    # 1. Killed right after its first chunk was committed: a partial store. 2. Re-run and
    # killed right after its next commit (past the chunk it finds already accepted).
    history: list[tuple[str, int]] = []
    for attempt in ("after first commit", "after next commit"):
        before = _case_count(db)
        proc = _start(batch, home)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if (_poll_count(db) or before) > before:
                break
            time.sleep(0.005)
        assert _kill(proc), f"the run ended before it could be killed {attempt} {where}"
        history.append((attempt, _case_count(db)))
        assert before < history[-1][1] < expected, (history, expected)

    # 3. Killed at random moments (start-up, mid-chunk, or too late), re-running each time.
    for _ in range(3):
        delay = rng.uniform(0.2, 2.5)
        proc = _start(batch, home)
        time.sleep(delay)
        killed = _kill(proc)
        history.append((f"{delay:.2f}s {'killed' if killed else 'finished'}", _case_count(db)))
        counts = [n for _, n in history]
        assert counts == sorted(counts) and counts[-1] <= expected, (history, where)

    # 4. One complete run.
    done = _accept(batch, home, tmp_path / "final.json")
    assert done.returncode == 1, (done.stdout, done.stderr, history, where)
    final = {line["row"]: line for line in _report(tmp_path / "final.json")["rows"]}
    assert sorted(final) == list(range(1, ROWS + 1))
    check_store_matches(db, rows, planned, final)

    verify = _cli("audit", "verify", "--json", home=home)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["events"] == expected

    # 5. Re-running the file accepts nothing again; exit 1 is for the invalid rows alone.
    again = _accept(batch, home, tmp_path / "again.json")
    assert again.returncode == 1, again.stderr
    rerun = _report(tmp_path / "again.json")["summary"]
    assert rerun == {
        "accepted": 0,
        "accepted_tolerated": 0,
        "not_accepted": 0,
        "needs_approval": summary["needs_approval"],
        "invalid": summary["invalid"],
        "duplicate": expected,
    }, (rerun, where)
    assert summary["invalid"] > 0
    assert _case_count(db) == expected
    check_store_matches(db, rows, planned, final)
