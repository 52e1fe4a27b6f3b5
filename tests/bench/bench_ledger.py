"""Opening the workbench and the 容缺 ledger with 200,000 cases in the local store.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_ledger.py           # 200,000 cases
    .venv/bin/python tests/bench/bench_ledger.py --quick   # 50,000 cases, fewer repetitions
    .venv/bin/python tests/bench/bench_ledger.py --json    # one JSON object on stdout

Two stores are built through the real migrations (``offline_cache.Store``) with the demo staff:
an empty one, and one filled by direct SQL inserts with two years of a busy hall — 200,000
cases over 730 days at six windows of this station plus a park station's cases, realistic
states (受理 → 办结 → 出证 → 领取, 容缺 → 补齐 or 终止, 不予受理), due dates and 补正 deadlines
counted on the real working-day calendar (so today's 红黄绿 flags are real), the checklists
(case_materials) and one outbox operation per case (acknowledged except the last days').

Each store is then opened by a fresh process that runs the real App headless (``run_test``,
80x24), signs in as C001, and times, several times over, ``push_screen`` of the workbench, the
ledger and the day close until the screen is mounted, its data workers (the reads that run in
threads) have finished, its table is filled and the screen is idle (``pilot.pause()``). Figures:

- ``<screen>_runs_s``: every open (five by default; the first in the process with SQLite's
  page cache cold), with ``<screen>_first_s``, ``<screen>_median_s`` and ``<screen>_max_s``;
  target: the workbench and the ledger under 0.3 s on every open;
- ``<screen>_ratio``: the median with 200,000 cases / the median on the empty store;
- ``peak_rss_screens_mib``: the peak RSS of the measuring process while it opens the screens,
  with 200,000 cases; target: < 150 MB. ``peak_rss_mib`` is the whole process's peak, which
  includes the 64 MiB that the argon2id password check allocates once at sign-in.

Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TODAY = dt.date(2026, 11, 20)
SEED = 2026
DAYS = 730
WINDOWS = ("01", "02", "03", "04", "05", "06")
TARGET_S = 0.3
TARGET_RSS_MIB = 150
SIZE = (80, 24)


# ---------------------------------------------------------------- generating a store


def _new_store(home: Path) -> Path:
    """A migrated store with the demo staff (the real migrations and staff service)."""
    from offline_cache import Store
    from window_client.services.catalog import load_shipped_catalog
    from window_client.services.staff import StaffService, seed_demo_staff

    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "station.db")
    try:
        seed_demo_staff(StaffService(store), load_shipped_catalog().default_station().code)
    finally:
        store.close()
    return home / "station.db"


def generate(home: Path, count: int) -> dict[str, int]:
    """Fill a new store at ``home`` with ``count`` cases; returns what was written."""
    from models.enums import Tolerance
    from models.timelimits import TimeLimit
    from window_client.services import samples
    from window_client.services.catalog import load_shipped_catalog
    from window_client.services.workdays import WorkdayCalendar, shipped_arrangements

    path = _new_store(home)
    rng = random.Random(SEED)
    catalog = load_shipped_catalog()
    station = catalog.default_station()
    other = next(s for s in catalog.stations.values() if s.kind == "station")
    items = [i for i in catalog.items.values() if station.accepts(i.code)]
    calendar = WorkdayCalendar({a.year: a for a in shipped_arrangements()})
    added: dict[tuple[dt.date, int, str], dt.date] = {}

    def add(day: dt.date, limit: TimeLimit) -> dt.date:
        key = (day, limit.days, limit.unit.value)
        if key not in added:
            added[key] = calendar.add(day, limit).date
        return added[key]

    people = [(samples.person_id(rng), samples.person_name(rng), samples.phone(rng)) for _ in range(30_000)]
    # Recent days are busier (the hall's volume grows); today is a full day too.
    weights = [1.0 + age_weight / DAYS for age_weight in range(DAYS)]
    days = [TODAY - dt.timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    sequences: dict[tuple[str, dt.date], int] = {}
    case_rows: list[tuple[Any, ...]] = []
    material_rows: list[tuple[Any, ...]] = []
    outbox_rows: list[tuple[Any, ...] | None] = []
    open_tolerated = 0
    for n in range(count):
        day = rng.choices(days, weights)[0]
        if day.weekday() >= 5 and rng.random() < 0.8:
            day -= dt.timedelta(days=day.weekday() - 4)  # the hall is mostly shut at weekends
        code = station.code if rng.random() < 0.95 else other.code
        seq = sequences[(code, day)] = sequences.get((code, day), 0) + 1
        case_no = f"{code}-{day:%Y%m%d}-{seq:05d}"
        item = rng.choice(items)
        applicant_id, name, phone = rng.choice(people)
        stamp = f"{day.isoformat()}T{rng.randrange(1, 9):02d}:{rng.randrange(60):02d}:00.000+00:00"
        tolerable = [m for m in item.materials if m.tolerance is Tolerance.TOLERABLE and m.supplement]
        roll = rng.random()
        if roll < 0.07:
            verdict, state = "not_acceptable", "not_accepted"
        elif roll < 0.19 and tolerable:
            verdict, state = "tolerable", "accepted_tolerated"
        else:
            verdict, state = "complete", "accepted"
        due = supplement_due = closed_on = None
        remaining = None
        missing: set[str] = set()
        if state == "accepted":
            due = add(day, item.promised)
        elif state == "accepted_tolerated":
            missing = {m.code for m in rng.sample(tolerable, 1)}
            supplement = next(m.supplement for m in tolerable if m.code in missing)
            assert supplement is not None
            supplement_due = add(day, supplement)
            remaining = item.promised.days
            if supplement_due < TODAY - dt.timedelta(days=2) or (
                supplement_due < TODAY and rng.random() < 0.5
            ):
                # Mostly supplemented in time; some terminated; a few still wait (red).
                fate = rng.random()
                if fate < 0.85:
                    back = min(supplement_due, TODAY)
                    state, closed_on, remaining = "supplemented", back, None
                    due = add(back, item.promised)
                elif fate < 0.97:
                    state, closed_on = "terminated", min(supplement_due + dt.timedelta(days=1), TODAY)
            if state == "accepted_tolerated":
                open_tolerated += 1
        if state in ("accepted", "supplemented") and due is not None:
            # Most cases are finished by their due date; 1 in 200 runs late (red).
            if due < TODAY and rng.random() < 0.995:
                fate = rng.random()
                if fate < 0.05:
                    state = "refused"
                elif item.certificate_type and fate < 0.85:
                    state = "delivered" if due < TODAY - dt.timedelta(days=10) else "certificate_issued"
                else:  # results that are not certificates wait a few days for 领取
                    state = "approved" if due >= TODAY - dt.timedelta(days=5) and fate < 0.95 else "delivered"
            elif due == TODAY and rng.random() < 0.5:
                state = "approved"
        case_rows.append(
            (
                case_no, code, rng.choice(WINDOWS), rng.choice(("C001", "C002")), "window",
                item.code, item.name, False, "person", applicant_id, name, None, None, phone,
                state, verdict, "[]", verdict == "tolerable", None, day.isoformat(),
                due.isoformat() if due else None, False,
                supplement_due.isoformat() if supplement_due else None, False, remaining,
                item.promised.unit.value, item.certificate_type, None, None,
                int(day < TODAY - dt.timedelta(days=1)),
                closed_on.isoformat() if closed_on else None,
                "C001" if closed_on else None, stamp, stamp,
            )
        )  # fmt: skip
        for m in item.materials:
            if m.code in missing:
                status = "presented" if state != "accepted_tolerated" and state != "terminated" else "missing"
            elif verdict == "not_acceptable" and m.tolerance is Tolerance.CORE and rng.random() < 0.5:
                status = "missing"
            else:
                status = "e_license" if m.e_license and rng.random() < 0.3 else "presented"
            material_rows.append(
                (case_no, m.code, m.name, m.tolerance.value, status,
                 supplement_due.isoformat() if m.code in missing and supplement_due else None)
            )  # fmt: skip
        payload = json.dumps(
            {"case_no": case_no, "item_code": item.code, "state": state, "accepted_on": day.isoformat()},
            ensure_ascii=False,
        )
        acked = day < TODAY - dt.timedelta(days=1)
        if code != station.code:  # the park station's cases came in a pull: no local operation
            outbox_rows.append(None)
            continue
        outbox_rows.append(
            (f"{SEED:x}{n:012x}", "case.accept", case_no, payload, stamp,
             "acked" if acked else "pending", 1 if acked else 0, stamp if acked else None)
        )  # fmt: skip
    # Cases are stored in the order they were accepted (the rowid order of a real store).
    order = sorted(range(len(case_rows)), key=lambda i: (case_rows[i][19], case_rows[i][-1]))
    columns = (
        "case_no, station, window, clerk, channel, item_code, item_name, is_package, applicant_type,"
        " applicant_id, applicant_name, agent_name, agent_id, phone, state, verdict, reasons,"
        " commitment, approved_by, accepted_on, due_date, due_provisional, supplement_due,"
        " supplement_provisional, remaining_days, limit_unit, certificate_type, dedupe_key,"
        " content_hash, synced, closed_on, closed_by, created_at, updated_at"
    )
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")  # generated test data: durability is not the point
        with db:
            db.executemany(
                f"INSERT INTO cases ({columns}) VALUES ({', '.join('?' * 34)})",
                [case_rows[i] for i in order],
            )
            db.executemany(
                "INSERT INTO case_materials (case_no, code, name, tolerance, status, supplement_due)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                material_rows,
            )
            db.executemany(
                "INSERT INTO outbox (op_id, kind, case_no, payload, created_at, status, attempts, acked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row for row in (outbox_rows[i] for i in order) if row is not None],
            )
            db.executemany(
                "INSERT INTO case_sequences (station, day, last) VALUES (?, ?, ?)",
                [(s, d.strftime("%Y%m%d"), last) for (s, d), last in sequences.items()],
            )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
        today_cases = db.execute(
            "SELECT COUNT(*) FROM cases WHERE accepted_on = ? AND station = ?",
            (TODAY.isoformat(), station.code),
        ).fetchone()[0]
    finally:
        db.close()
    return {
        "cases": count,
        "materials": len(material_rows),
        "outbox": sum(row is not None for row in outbox_rows),
        "open_tolerated": open_tolerated,
        "today_cases": int(today_cases),
    }


# ---------------------------------------------------------------- measuring (child process)


# The screens' data workers (tests/functional/tui_helpers.DATA_GROUPS): the clock stops when
# they have finished and their rows are on screen.
DATA_GROUPS = frozenset({"workbench", "workbench-page", "dayclose"})


async def _open_screens(repeats: int) -> dict[str, Any]:
    from textual.widgets import DataTable, Static

    from screens.dayclose import DayCloseScreen
    from screens.ledger import LedgerScreen
    from screens.workbench import WorkbenchScreen
    from window_client.app import WindowClientApp
    from window_client.services.runtime import Runtime
    from window_client.services.settings import Settings

    runtime = Runtime(Settings.from_env(), actor="bench")
    app = WindowClientApp(runtime=runtime, today=lambda: TODAY, idle_seconds=0)
    figures: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        for text in ("S001", "demo-5678"):  # a supervisor: the day close is open to them
            await pilot.press(*text, "enter")
        await pilot.pause()
        if not isinstance(app.screen, WorkbenchScreen):
            raise SystemExit(f"sign-in failed: {app.screen!r}")
        app.pop_screen()
        await pilot.pause()
        # The sign-in's argon2id check allocates its 64 MiB memory cost once; the screens'
        # own peak is measured from here (Linux: writing 5 to clear_refs resets VmHWM).
        figures["rss_after_sign_in_mib"] = _vm("VmRSS")
        peak_before = _vm("VmHWM")
        _reset_peak()
        screens: tuple[tuple[str, Callable[[], Any], str], ...] = (
            ("workbench", WorkbenchScreen, "#today-cases"),
            ("ledger", LedgerScreen, "#ledger-table"),
            ("dayclose", DayCloseScreen, "#dayclose-table"),
        )
        for name, factory, table in screens:
            times = []
            rows = 0
            for _ in range(repeats):
                start = time.perf_counter()
                await app.push_screen(factory())
                await pilot.pause()
                # A screen that reads in a thread worker is open when its rows are shown.
                while any(w.group in DATA_GROUPS and not w.is_finished for w in app.workers):
                    await pilot.pause(0.001)
                await pilot.pause()
                times.append(time.perf_counter() - start)
                rows = app.screen.query_one(table, DataTable).row_count
                title = app.screen.query(".section-title")
                if name != "dayclose" and title:
                    figures[f"{name}_title"] = str(title.first(Static).render())
                app.pop_screen()
                await pilot.pause()
            figures[f"{name}_first_s"] = round(times[0], 4)
            figures[f"{name}_median_s"] = round(statistics.median(times), 4)
            figures[f"{name}_max_s"] = round(max(times), 4)
            figures[f"{name}_runs_s"] = [round(t, 4) for t in times]
            figures[f"{name}_rows"] = rows
        figures["peak_rss_screens_mib"] = _vm("VmHWM")
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent (which held the
    # generated rows), while VmHWM belongs to this process's own memory.
    figures["peak_rss_mib"] = max(peak_before or 0, figures["peak_rss_screens_mib"] or 0)
    return figures


def _vm(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status, in MiB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _reset_peak() -> None:
    # Not Linux, or not allowed: the screens' peak is then the process's peak.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def measure_child(home: Path, repeats: int) -> dict[str, Any]:
    """Run the measuring process on ``home`` and return its figures."""
    env = {**os.environ, "WINDOW_CLIENT_HOME": str(home)}
    env.pop("WINDOW_CLIENT_STATION", None)
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", str(home), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise SystemExit(f"measuring {home} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="50,000 cases, 3 repetitions")
    parser.add_argument("--cases", type=int, default=None, help="cases in the full store (200,000)")
    parser.add_argument("--repeats", type=int, default=None, help="opens of each screen (5)")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    if args.measure is not None:  # the child: measure one store and print its figures
        print(json.dumps(asyncio.run(_open_screens(repeats))))
        return 0
    count = args.cases or (50_000 if args.quick else 200_000)
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    try:
        start = time.perf_counter()
        written = generate(work / "full", count)
        generate_s = time.perf_counter() - start
        _new_store(work / "empty")
        empty = measure_child(work / "empty", repeats)
        full = measure_child(work / "full", repeats)
        db_mib = (work / "full" / "station.db").stat().st_size / 2**20
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {
        "benchmark": "ledger",
        "cases": count,
        "written": written,
        "generate_s": round(generate_s, 1),
        "db_mib": round(db_mib, 1),
        "repeats": repeats,
        "target_s": TARGET_S,
        "target_rss_mib": TARGET_RSS_MIB,
        "empty": empty,
        "full": full,
    }
    for name in ("workbench", "ledger", "dayclose"):
        result[f"{name}_s"] = full[f"{name}_median_s"]
        result[f"{name}_first_s"] = full[f"{name}_first_s"]
        result[f"{name}_max_s"] = full[f"{name}_max_s"]
        result[f"{name}_runs_s"] = full[f"{name}_runs_s"]
        result[f"{name}_ratio"] = round(full[f"{name}_median_s"] / empty[f"{name}_median_s"], 2)
    result["peak_rss_mib"] = full["peak_rss_mib"]
    result["peak_rss_empty_mib"] = empty["peak_rss_mib"]
    result["peak_rss_screens_mib"] = full["peak_rss_screens_mib"]
    result["peak_rss_screens_empty_mib"] = empty["peak_rss_screens_mib"]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"{count:,} cases ({written['open_tolerated']:,} open 容缺, {written['today_cases']} today,"
        f" {written['materials']:,} checklist lines, {written['outbox']:,} outbox operations;"
        f" {result['db_mib']} MiB; generated in {result['generate_s']} s)"
    )
    print(f"  {'screen':<10}{'first s':>9}{'median s':>10}{'max s':>8}{'empty s':>9}{'ratio':>7}  table rows")
    for name in ("workbench", "ledger", "dayclose"):
        target = f"  (target < {TARGET_S} s on every open)" if name != "dayclose" else ""
        print(
            f"  {name:<10}{full[name + '_first_s']:>9.3f}{full[name + '_median_s']:>10.3f}"
            f"{full[name + '_max_s']:>8.3f}{empty[name + '_median_s']:>9.3f}{result[name + '_ratio']:>7.2f}"
            f"  {full[name + '_rows']}{target}"
        )
    for name in ("workbench", "ledger"):
        runs = "  ".join(f"{t:.3f}" for t in full[name + "_runs_s"])
        print(f"  {name} opens with {count:,} cases (s): {runs}")
    print(
        f"  peak RSS while the screens open: {full['peak_rss_screens_mib']} MiB with {count:,} cases,"
        f" {empty['peak_rss_screens_mib']} MiB empty (target < {TARGET_RSS_MIB} MB)"
    )
    print(
        f"  peak RSS of the whole process: {full['peak_rss_mib']} MiB with {count:,} cases,"
        f" {empty['peak_rss_mib']} MiB empty (includes argon2id's 64 MiB at sign-in)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
