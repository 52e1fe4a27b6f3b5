"""跨区通办 forwarding throughput: one hall's outbox to its partner against the partner's bare push.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_crosshall.py           # 5,000 cases per round, 3 rounds
    .venv/bin/python tests/bench/bench_crosshall.py --quick   # 1,000 cases per round
    .venv/bin/python tests/bench/bench_crosshall.py --json    # one JSON object on stdout

Three real ``hall-server`` processes on loopback, each with its own SQLite file
(tests/crosshall_halls.py): 高新 (GAOXIN, the origin), 泾河 (JINGHE, the owner of CL-001 for
高新) and a second owner (BARE) with the same catalogue and nothing else. Their background
outboxes are off (``--forward-every 0``): the benchmark runs the outbox itself.

Per round, the station GXZX's accepts of N new CL-001 cases are pushed to 高新 (untimed): each
becomes a message to 泾河 in 高新's outbox. Timed:

- forwarding: 高新's outbox delivering the N messages to 泾河
  (:func:`hall_server.services.crosshall_out.deliver`, what ``partners sync`` and ``serve`` run:
  reading the messages, signing each request with the hall's SM2 key, 泾河 checking the
  signature and applying them once);
- baseline: the same N accept operations pushed by the station straight into BARE over HTTP
  (``POST /sync/push`` in batches of MAX_PUSH_BATCH, bodies serialised before the clock).

``ratio`` = forwarding throughput / bare push throughput (higher is better; target at least
0.40), the median of the rounds' own ratios; the two timed parts alternate in order and each
starts after ``os.sync()``. Not a test: nothing asserts on time. Sanity checks (every message
answered applied, every case at 泾河 once, every push applied) make the exit code non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hall_server.services import hall_key  # noqa: E402
from hall_server.services.crosshall_out import deliver  # noqa: E402
from hall_server.storage import make_engine  # noqa: E402
from models.sync import MAX_PUSH_BATCH  # noqa: E402
from tests.crosshall_halls import (  # noqa: E402
    GAOXIN_ISSUER,
    JINGHE_ISSUER,
    ORIGIN_LINKS,
    OWNER_LINKS,
    PartnerHall,
    link,
    partner_hall,
)
from tests.server.ops import accept_payload, person_id  # noqa: E402

TARGET = 0.40
JSON = {"Content-Type": "application/json"}
ROUNDS = 3
DAYS = ("20261120", "20261123", "20261124", "20261125", "20261126")


def operations(day: str, count: int, offset: int) -> list[dict[str, Any]]:
    """``count`` accepts of CL-001 at GXZX on ``day`` (distinct applicants)."""
    ops = []
    for n in range(1, count + 1):
        case_no = f"GXZX-{day}-{n:05d}"
        k = offset + n
        who = person_id(f"610113{dt.date(1960, 1, 1) + dt.timedelta(days=k // 1000):%Y%m%d}{k % 1000:03d}")
        payload = accept_payload(case_no, item_code="CL-001", applicant_id=who)
        ops.append(
            {
                "op_id": f"bx-{day}-{n:06d}",
                "seq": k,
                "kind": "case.accept",
                "case_no": case_no,
                "payload": payload,
                "created_at": f"{day[:4]}-{day[4:6]}-{day[6:]}T09:00:00+08:00",
            }
        )
    return ops


def bodies(ops: list[dict[str, Any]]) -> list[bytes]:
    """The push requests, serialised."""
    return [
        json.dumps({"station": "GXZX", "operations": ops[i : i + MAX_PUSH_BATCH]}).encode()
        for i in range(0, len(ops), MAX_PUSH_BATCH)
    ]


def signed_in(hall: PartnerHall) -> httpx.Client:
    """An HTTP client of the hall with a GXZX clerk's token."""
    client = httpx.Client(base_url=hall.url, timeout=600)
    response = client.post(
        "/api/v1/auth/token", json={"staff_no": "C001", "password": "demo-1234", "station": "GXZX"}
    )
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


def push(client: httpx.Client, prepared: list[bytes]) -> tuple[float, dict[str, int]]:
    """Push prepared batches; (seconds, count per status)."""
    answers = []
    start = time.perf_counter()
    for body in prepared:
        response = client.post(
            "/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"}
        )
        response.raise_for_status()
        answers.append(response.content)
    elapsed = time.perf_counter() - start
    counts: dict[str, int] = {}
    for answer in answers:
        for result in json.loads(answer)["results"]:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    return elapsed, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 cases per round")
    parser.add_argument("--cases", type=int, default=None, help="cases per round (default 5,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    count = args.cases or (1000 if args.quick else 5000)
    with tempfile.TemporaryDirectory(prefix="bench-crosshall-") as tmp:
        figures = run(Path(tmp), count)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"forwarding {count:,} cases: {' '.join(f'{s:.2f}' for s in figures['forward_s'])} s")
        print(f"bare push of the same:  {' '.join(f'{s:.2f}' for s in figures['bare_s'])} s")
        print(f"ratio of each round: {' '.join(f'{r:.2f}' for r in figures['ratios'])}")
        print(f"ratio forwarding/bare push (median): {figures['ratio']:.2f}  (target >= {TARGET})")
        for problem in figures["problems"]:
            print(f"SANITY PROBLEM: {problem}")
    return 1 if figures["problems"] else 0


def run(tmp: Path, count: int) -> dict[str, Any]:
    """Start the halls, run the rounds, stop the halls; the figures."""
    halls = [
        partner_hall(tmp, "GAOXIN", GAOXIN_ISSUER, ORIGIN_LINKS, forward_every="0"),
        partner_hall(tmp, "JINGHE", JINGHE_ISSUER, OWNER_LINKS, forward_every="0"),
        partner_hall(tmp, "BARE", JINGHE_ISSUER, OWNER_LINKS, forward_every="0"),
    ]
    gaoxin, jinghe, bare = halls
    try:
        link(gaoxin, jinghe)
        link(jinghe, gaoxin)
        return rounds(gaoxin, jinghe, bare, count)
    finally:
        for hall in halls:
            hall.process.stop()


def rounds(gaoxin: PartnerHall, jinghe: PartnerHall, bare: PartnerHall, count: int) -> dict[str, Any]:
    """Every round's two timed parts and the sanity checks."""
    identity = hall_key.load(gaoxin.home / hall_key.FILE_NAME)
    assert identity is not None
    engine = make_engine(gaoxin.db_url)
    timed: dict[str, list[float]] = {"forward": [], "bare": []}
    problems: list[str] = []
    origin, baseline, client = signed_in(gaoxin), signed_in(bare), httpx.Client(timeout=600)
    try:
        for index in range(ROUNDS):
            prepared = bodies(operations(DAYS[index], count, index * count))
            _, pushed = push(origin, prepared)  # untimed: the messages to 泾河 are now waiting
            if pushed.get("applied") != count:
                problems.append(f"round {index}: the origin applied {pushed}")
            for part in ("forward", "bare") if index % 2 == 0 else ("bare", "forward"):
                os.sync()
                if part == "forward":
                    start = time.perf_counter()
                    report = deliver(engine, identity, "JINGHE", client)
                    timed[part].append(time.perf_counter() - start)
                    if report.sent != count or report.refused or report.error:
                        problems.append(f"round {index}: forwarding {report.to_json()}")
                else:
                    seconds, counts = push(baseline, prepared)
                    timed[part].append(seconds)
                    if counts.get("applied") != count:
                        problems.append(f"round {index}: the bare push applied {counts}")
    finally:
        for opened in (origin, baseline, client):
            opened.close()
        engine.dispose()
    held = jinghe.query("SELECT COUNT(*), COUNT(DISTINCT case_no) FROM cases WHERE station = '@GAOXIN'")
    if held != [(count * ROUNDS, count * ROUNDS)]:
        problems.append(f"泾河 holds {held} forwarded cases, not {count * ROUNDS} once each")
    ratios = [b / f for f, b in zip(timed["forward"], timed["bare"], strict=True)]
    return {
        "cases": count,
        "rounds": ROUNDS,
        "forward_s": [round(s, 3) for s in timed["forward"]],
        "bare_s": [round(s, 3) for s in timed["bare"]],
        "ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3),
        "target": TARGET,
        "problems": problems,
    }


if __name__ == "__main__":
    sys.exit(main())
