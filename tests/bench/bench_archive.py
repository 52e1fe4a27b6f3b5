"""电子档案 export of 1,000 cases against copying the same bytes and computing their SM3 digests.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_archive.py          # 1,000 cases, five rounds
    .venv/bin/python tests/bench/bench_archive.py --quick  # 200 cases, three rounds
    .venv/bin/python tests/bench/bench_archive.py --json   # one JSON object on stdout

The store is a real station's: the demo (every state, a signed 容缺受理承诺书, certificates),
then a generated batch of realistic rows (受理, 容缺受理, 不予受理) on the same day, and one case in
ten that has a certificate type approved and issued, until the day holds the cases asked for.
Each round exports them (``ArchiveService.export``: reading the store, building the documents and
certificate pages, the audit slices, the metadata, writing, SM3, the seal, the audit events),
then copies every file of the package it wrote into a fresh folder and computes each file's SM3
(the baseline). ``ratio`` is the median of the rounds' export/baseline ratios (target <= 3).
Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from models.enums import CaseState  # noqa: E402
from models.records import CaseFilter  # noqa: E402
from models.seal import sm3_hex  # noqa: E402
from window_client.services.archive import ArchiveService  # noqa: E402
from window_client.services.batch import BatchRunner  # noqa: E402
from window_client.services.demo_seed import seed_demo_station  # noqa: E402
from window_client.services.runtime import Runtime  # noqa: E402
from window_client.services.samples import sample_rows, write_csv  # noqa: E402
from window_client.services.settings import Settings  # noqa: E402
from window_client.services.staff import seed_demo_staff  # noqa: E402
from window_client.services.state_machine import CaseEvent  # noqa: E402

DAY = dt.date(2026, 11, 20)
TARGET = 3.0


def fill(rt: Runtime, cases: int, work: Path) -> list[str]:
    """The demo, then batch rows until ``DAY`` holds ``cases`` cases; some issued certificates."""
    seed_demo_staff(rt.staff, rt.station.code)
    seed_demo_station(rt, DAY)
    missing = cases - rt.cases.count(CaseFilter(accepted_on=DAY))
    if missing > 0:
        batch = work / "rows.csv"
        write_csv(sample_rows(rt.catalog, int(missing * 1.3) + 20, seed=7, invalid_share=0.0), batch)
        BatchRunner(rt.acceptance).run(batch, DAY)
    accepted = rt.cases.list_cases(CaseFilter(state=CaseState.ACCEPTED.value), DAY, 100_000, order="id ASC")
    for case in accepted[::10]:
        if case.certificate_type:
            rt.cases.transition(case.case_no, CaseEvent.APPROVE, DAY)
            rt.certificates.issue([case.case_no], DAY)
    with rt.store.reading() as conn:
        rows = conn.exec_driver_sql(
            "SELECT case_no FROM cases WHERE accepted_on = ? ORDER BY id LIMIT ?", (DAY.isoformat(), cases)
        )
        return [str(r[0]) for r in rows]


def baseline(package: Path, target: Path) -> float:
    """Seconds to copy every file of ``package`` into ``target`` and compute each one's SM3."""
    files = sorted(p for p in package.rglob("*") if p.is_file())
    start = time.perf_counter()
    made: set[Path] = set()
    for source in files:
        data = source.read_bytes()
        dest = target / source.relative_to(package)
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        dest.write_bytes(data)
        sm3_hex(data)
    return time.perf_counter() - start


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--quick", action="store_true", help="200 cases, three rounds")
    args = parser.parse_args()
    cases, rounds = (200, 3) if args.quick else (1000, 5)
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    try:
        rt = Runtime(Settings(home=work / "home", server="http://127.0.0.1:9"), actor="C001")
        case_nos = fill(rt, cases, work)
        service = ArchiveService(rt, today=DAY)
        exports, copies = [], []
        for n in range(rounds):
            start = time.perf_counter()
            result = service.export(case_nos, work / f"export-{n}")
            exports.append(time.perf_counter() - start)
            copies.append(baseline(result.out, work / f"copy-{n}"))
        report = service.verify(result.out)
        rt.close()
        figures = {
            "cases": len(case_nos),
            "certificates": sum(1 for p in result.out.rglob("1.2.156.*.html")),
            "files": result.files,
            "bytes": result.size,
            "export_s": round(statistics.median(exports), 3),
            "baseline_s": round(statistics.median(copies), 3),
            "export_runs_s": [round(t, 3) for t in exports],
            "baseline_runs_s": [round(t, 3) for t in copies],
            # Each round's export against the copy right after it (the shared machine's load drifts).
            "ratios": [round(e / c, 2) for e, c in zip(exports, copies, strict=True)],
            "ratio": round(statistics.median(e / c for e, c in zip(exports, copies, strict=True)), 2),
            "target": TARGET,
            "problems": [] if report.ok else [f.message for f in report.findings()][:5],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        for key, value in figures.items():
            print(f"{key:<16} {value}")
        n, ratio = f"{figures['cases']:,}", figures["ratio"]
        print(f"archive export of {n} cases: {ratio}x copying + SM3 (target <= {TARGET})")
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
