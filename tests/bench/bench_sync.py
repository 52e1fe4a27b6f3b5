"""Hall-server sync throughput: push and pull over HTTP against the storage layer's bare speed.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_sync.py           # 20,000 operations
    .venv/bin/python tests/bench/bench_sync.py --quick   # 5,000 operations
    .venv/bin/python tests/bench/bench_sync.py --json    # one JSON object on stdout

The real server runs as a subprocess on a loopback port with a SQLite file (tests/hall.py).
One station's outbox of realistic operations (accepts with their checklists, 补正, 办结, 出证,
领取, a few terminations) is pushed in batches of MAX_PUSH_BATCH (timed). The same outbox then
goes on, untimed, until the station's change feed holds at least PULL_CHANGES changes (a case's
state changes and the applicants' standings), and the whole feed is pulled in pages of
MAX_PULL_LIMIT (timed).

Baselines, measured in the same run against a fresh database with the same schema and pragmas:

- push: the exact rows the push wrote (operations, cases, changes, standings, read back from the
  server's database) written by ONE direct call to the storage layer
  (``hall_server.storage.write_rows``, one transaction, no HTTP, no rules);
- pull: ONE direct select of the same change rows (``hall_server.storage.changes_after``); the
  client's parse of the pages is not timed (its own cost, like the push's serialisation).

``push_ratio`` and ``pull_ratio`` are throughput over HTTP / throughput of the baseline
(higher is better; the target is at least 0.40 for both), the median of the runs' own ratios
(the push's baseline runs right after the timed push, before the feed is filled, and each timed
part starts after ``os.sync()``, so neither pays for the other's writes still reaching the
disk). Request bodies are serialised before the clock starts and answers parsed after it stops:
the client's own costs are not the server's. The benchmark process uses the server's
garbage-collector settings (``hall_server.cli.serve.tune_gc``) for its baselines.

Not a test: nothing here asserts on time. Sanity checks (every operation applied, every change
pulled once) make the exit code non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hall_server import storage  # noqa: E402
from hall_server.cli.serve import tune_gc  # noqa: E402
from hall_server.storage import make_engine, migrate, read_transaction, write_transaction  # noqa: E402
from models.sync import MAX_PULL_LIMIT, MAX_PUSH_BATCH  # noqa: E402
from tests.hall import start_hall  # noqa: E402
from tests.server.ops import accept_payload, person_id  # noqa: E402

STATION = "GXZX"
TARGET = 0.40
PULL_CHANGES = 20_000
SEED = 2026


def _applicant(k: int) -> str:
    """The ``k``-th of distinct valid resident ID numbers."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=k // 1000)
    return person_id(f"610113{born:%Y%m%d}{k % 1000:03d}")


def _accept(
    case_no: str, n: int, state: str, item: str | None = None, applicant: int | None = None
) -> dict[str, Any]:
    """A valid accept (the hall checks it as the counter decides): 5,000 applicants come back.

    A complete case is a 即办件 (SCJG-007..009), which a station may finish itself; a tolerated
    one is SCJG-001 (its LEASE may be missing), decided only by the back office.
    """
    who = _applicant(n % 5000 if applicant is None else applicant)
    code = item or (f"SCJG-{n % 3 + 7:03d}" if state == "accepted" else "SCJG-001")
    return accept_payload(case_no, station=STATION, state=state, applicant_id=who, item_code=code)


def outbox(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` operations of one station, in outbox order."""
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    n = 0

    def add(kind: str, case_no: str, payload: dict[str, Any]) -> None:
        ops.append(
            {
                "op_id": f"bench-{len(ops):08d}",
                "seq": len(ops) + 1,
                "kind": kind,
                "case_no": case_no,
                "payload": payload,
                "created_at": f"2026-11-20T09:{len(ops) % 60:02d}:00+08:00",
            }
        )

    def step(case_no: str, event: str, frm: str, to: str, **extra: Any) -> None:
        add(
            "case.transition",
            case_no,
            {"case_no": case_no, "event": event, "from": frm, "to": to, "on": "2026-11-21", **extra},
        )

    while len(ops) < count:
        n += 1
        case_no = f"{STATION}-20261120-{n:05d}"
        path = rng.random()
        if path < 0.4:
            add("case.accept", case_no, _accept(case_no, n, "accepted"))
            step(case_no, "approve", "accepted", "approved")
            step(case_no, "issue_certificate", "approved", "certificate_issued")
            step(case_no, "deliver", "certificate_issued", "delivered")
        elif path < 0.7:
            add("case.accept", case_no, _accept(case_no, n, "accepted_tolerated"))
            add(
                "case.partial_supplement",
                case_no,
                {"case_no": case_no, "received": ["LEASE"], "on": "2026-11-23"},
            )
            step(case_no, "supplement", "accepted_tolerated", "supplemented", received=["LEASE"])
            # A 承诺件: the back office decides it, not the station.
        elif path < 0.9:
            add("case.accept", case_no, _accept(case_no, n, "accepted"))
            step(case_no, "approve", "accepted", "approved")
        else:
            # A late 补正 the hall can check (SCJG-002's LEASE was due on 2026-11-27), and a
            # broken promise: its applicant would need a supervisor for any later tolerance, so
            # it is one of its own.
            add("case.accept", case_no, _accept(case_no, n, "accepted_tolerated", "SCJG-002", 5000 + n))
            step(
                case_no,
                "terminate",
                "accepted_tolerated",
                "terminated",
                reason="supplement.late",
                on="2026-11-30",
            )
    return ops[:count]


def token(client: httpx.Client) -> str:
    """A clerk's token at the station."""
    response = client.post(
        "/api/v1/auth/token", json={"staff_no": "C001", "password": "demo-1234", "station": STATION}
    )
    response.raise_for_status()
    return str(response.json()["token"])


def push_all(
    client: httpx.Client, bodies: list[bytes], headers: dict[str, str]
) -> tuple[float, dict[str, int]]:
    """Push the prepared batches; (seconds, count per status). Answers are parsed after the clock."""
    answers = []
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/sync/push", content=body, headers=headers)
        response.raise_for_status()
        answers.append(response.content)
    elapsed = time.perf_counter() - start
    counts: dict[str, int] = {}
    for answer in answers:
        for result in json.loads(answer)["results"]:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    return elapsed, counts


_TAIL = re.compile(rb'"cursor":(\d+),"more":(true|false),"server_time":"[^"]*"}$')


def pull_all(client: httpx.Client, headers: dict[str, str]) -> tuple[float, int]:
    """Pull every change in pages; (seconds, changes received, each seq once and in order).

    As the push's request bodies are serialised before the clock starts, the client's parse of
    each page is its own cost and happens after the clock stops; while pulling, the cursor and
    ``more`` are read from the end of the page.
    """
    cursor, more, pages = 0, True, []
    start = time.perf_counter()
    while more:
        response = client.get(f"/api/v1/sync/changes?after={cursor}&limit={MAX_PULL_LIMIT}", headers=headers)
        response.raise_for_status()
        pages.append(response.content)
        tail = _TAIL.search(response.content[-200:])
        assert tail is not None, "unexpected page layout"
        cursor, more = int(tail.group(1)), tail.group(2) == b"true"
    elapsed = time.perf_counter() - start
    seqs = [change["seq"] for page in pages for change in json.loads(page)["changes"]]
    if seqs != sorted(set(seqs)):
        raise SystemExit("the pull returned changes twice or out of order")
    return elapsed, len(seqs)


def read_back(db_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row the push wrote, per table."""
    engine = make_engine(db_url)
    tables = {
        "operations": storage.OPS,
        "cases": storage.CASES,
        "changes": storage.CHANGES,
        "standings": storage.STANDINGS,
    }
    with read_transaction(engine) as conn:
        rows = {
            name: [dict(r) for r in conn.execute(select(table)).mappings()] for name, table in tables.items()
        }
    engine.dispose()
    return rows


def feed_size(db_url: str) -> int:
    """How many changes the station's pull would receive."""
    engine = make_engine(db_url)
    with read_transaction(engine) as conn:
        audience = storage.CHANGES.c.audience.in_([STATION, storage.ALL_STATIONS])
        count = int(
            conn.execute(select(func.count()).select_from(storage.CHANGES).where(audience)).scalar_one()
        )
    engine.dispose()
    return count


def fill_feed(client: httpx.Client, headers: dict[str, str], db_url: str, more: list[bytes]) -> None:
    """Push further batches of the outbox (untimed) until the feed holds PULL_CHANGES changes."""
    for body in more:
        if feed_size(db_url) >= PULL_CHANGES:
            return
        client.post("/api/v1/sync/push", content=body, headers=headers).raise_for_status()


def bare_insert(directory: Path, rows: dict[str, list[dict[str, Any]]], run: int) -> float:
    """Seconds to write ``rows`` into a fresh database with one storage call."""
    engine = make_engine(f"sqlite:///{directory / f'baseline-{run}.db'}")
    migrate(engine)
    start = time.perf_counter()
    with write_transaction(engine) as conn:
        storage.write_rows(conn, **rows)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def bare_select(db_url: str) -> tuple[float, int]:
    """Seconds for one direct select of the station's changes."""
    engine = make_engine(db_url)
    with read_transaction(engine) as conn:  # warm the connection, as the server's pool is
        storage.changes_after(conn, STATION, 0, 1)
    start = time.perf_counter()
    with read_transaction(engine) as conn:
        rows = storage.changes_after(conn, STATION, 0, 10**9)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, len(rows)


def measure(count: int, runs: int) -> dict[str, Any]:
    """Push ``count`` operations and pull the feed ``runs`` times each; the figures."""
    problems: list[str] = []
    # Enough operations beyond the timed ones for PULL_CHANGES changes (about one per 3 operations).
    ops = outbox(count + 4 * PULL_CHANGES)

    def batches_of(part: list[dict[str, Any]]) -> list[bytes]:
        return [
            json.dumps(
                {"station": STATION, "operations": part[i : i + MAX_PUSH_BATCH]}, ensure_ascii=False
            ).encode()
            for i in range(0, len(part), MAX_PUSH_BATCH)
        ]

    # Exactly ``count`` operations are timed (a last, shorter batch when count is not a multiple).
    bodies, more = batches_of(ops[:count]), batches_of(ops[count:])
    tune_gc()  # the server's own garbage-collector settings, so the baselines run as it would
    push_times, pull_times, baseline_push, baseline_pull = [], [], [], []
    changes = pulled = 0
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        directory = Path(tmp)
        for run in range(runs):
            hall = start_hall(directory / f"run-{run}")
            try:
                with httpx.Client(base_url=hall.url, timeout=120) as client:
                    headers = {"Authorization": f"Bearer {token(client)}", "Content-Type": "application/json"}
                    os.sync()  # each timed part starts with nothing left to write back to disk
                    seconds, counts = push_all(client, bodies, headers)
                    push_times.append(seconds)
                    if counts.get("applied", 0) != count:
                        problems.append(f"run {run}: not every operation applied: {counts}")
                    rows = read_back(hall.db_url)  # what the timed push wrote
                    os.sync()
                    baseline_push.append(bare_insert(directory, rows, run))
                    fill_feed(client, headers, hall.db_url, more)
                    pull_all(client, headers)  # warm-up: the page cache, as for the baseline
                    seconds, pulled = pull_all(client, headers)
                    pull_times.append(seconds)
            finally:
                hall.stop()
            seconds, changes = bare_select(hall.db_url)
            baseline_pull.append(seconds)
            if pulled != changes:
                problems.append(f"run {run}: pulled {pulled} changes, the feed holds {changes} for {STATION}")
            if pulled < PULL_CHANGES:
                problems.append(f"run {run}: only {pulled} changes to pull (wanted {PULL_CHANGES})")
    push_s, pull_s = statistics.median(push_times), statistics.median(pull_times)
    base_push_s, base_pull_s = statistics.median(baseline_push), statistics.median(baseline_pull)
    # Each run's baseline is measured right after its HTTP run (the server idle, the disk synced),
    # under the same machine load, so the ratio is the median of the runs' own ratios.
    push_ratio = statistics.median(b / t for b, t in zip(baseline_push, push_times, strict=True))
    pull_ratio = statistics.median(b / t for b, t in zip(baseline_pull, pull_times, strict=True))
    return {
        "operations": count,
        "batches": len(bodies),
        "rows_written": sum(len(v) for v in rows.values()),
        "changes_pulled": pulled,
        "push_s": round(push_s, 3),
        "push_ops_per_s": round(count / push_s),
        "baseline_insert_s": round(base_push_s, 3),
        "push_ratio": round(push_ratio, 3),
        "pull_s": round(pull_s, 3),
        "pull_changes_per_s": round(pulled / pull_s) if pull_s else None,
        "baseline_select_s": round(base_pull_s, 3),
        "pull_ratio": round(pull_ratio, 3),
        "target": TARGET,
        "problems": problems,
    }


def report(result: dict[str, Any]) -> str:
    """A human-readable summary."""
    lines = [
        f"operations pushed        {result['operations']:,} in {result['batches']} batches",
        f"rows written             {result['rows_written']:,}",
        f"push over HTTP           {result['push_s']:.3f} s ({result['push_ops_per_s']:,} ops/s)",
        f"bare insert (baseline)   {result['baseline_insert_s']:.3f} s",
        f"push ratio               {result['push_ratio']:.2f}  (target >= {TARGET})",
        f"changes pulled           {result['changes_pulled']:,}",
        f"pull over HTTP           {result['pull_s']:.3f} s",
        f"direct select (baseline) {result['baseline_select_s']:.3f} s",
        f"pull ratio               {result['pull_ratio']:.2f}  (target >= {TARGET})",
    ]
    if result["problems"]:
        lines.append("SANITY PROBLEMS: " + "; ".join(result["problems"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="5,000 operations, one run")
    parser.add_argument("--ops", type=int, default=20_000, help="operations to push")
    parser.add_argument("--runs", type=int, default=5, help="runs to take the median of")
    args = parser.parse_args(argv)
    count, runs = (5_000, 1) if args.quick else (args.ops, args.runs)
    result = measure(count, runs)
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
