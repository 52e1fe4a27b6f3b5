"""Batch acceptance throughput and memory, measured on the real CLI.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_batch.py            # 50,000 rows + the 500,000-row run
    .venv/bin/python tests/bench/bench_batch.py --skip-big # 50,000 rows only
    .venv/bin/python tests/bench/bench_batch.py --quick    # 10,000 rows, no big run
    .venv/bin/python tests/bench/bench_batch.py --json     # one JSON object on stdout

Figures are ratios against a baseline measured in the same run, because machines are noisy:

- ``ratios`` = for each of five runs (``--repeat``), the wall time of ``window-client batch
  accept`` / the store's physical limit, which is the time raw ``sqlite3`` takes to insert
  exactly the rows the batch wrote (every table it wrote, read back from its station.db) into
  a fresh file with the same schema and pragmas (``offline_cache.store.PRAGMAS``: WAL,
  synchronous=FULL, ...), in ONE transaction. A baseline is taken after every run, and a run is
  divided by the mean of the baselines on either side of it, so both are measured under the
  same load. ``ratio`` is the worst of them. Target: at most 4.0 on every run.
- ``rss_ratio`` = peak RSS of the 500,000-row run / peak RSS of the 50,000-row run (each the
  child's own peak, taken by a wrapper process that runs only that child). Target: well under
  10 (memory stays flat).

Not a test: nothing here asserts on time. Only sanity checks (the run produced every kind of
outcome, and the store holds what the summary says) make the exit code non-zero.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline_cache.migrations import migrate
from offline_cache.store import PRAGMAS, make_engine
from window_client.services import samples
from window_client.services.catalog import load_shipped_catalog

HERE = Path(__file__).resolve().parent
OUT = HERE / "_out"
TODAY = "2026-11-20"
SEED = 2026
TARGET_RATIO = 4.0
TARGET_RSS_RATIO = 10.0
STATUSES = (
    "accepted", "accepted_tolerated", "not_accepted", "needs_approval", "invalid", "duplicate",
)  # fmt: skip
MUST_BE_NONZERO = ("accepted", "accepted_tolerated", "not_accepted", "invalid")
WRITTEN_STATES = ("accepted", "accepted_tolerated", "not_accepted")
SKIPPED_TABLES = {"schema_migrations"}


# ------------------------------------------------------------------ input files


def _inputs_fingerprint() -> str:
    """Changes when the catalogue or the sample generator changes (a cached file is then stale)."""
    digest = hashlib.sha256()
    digest.update(inspect.getsource(samples).encode("utf-8"))
    catalog = load_shipped_catalog()
    for code in sorted(catalog.items):
        item = catalog.items[code]
        digest.update(repr((item.code, item.kind, [m.code for m in item.materials])).encode())
    return digest.hexdigest()[:16]


def generate_csv(path: Path, rows: int, seed: int = SEED) -> float:
    """Write ``rows`` sample rows to ``path``; returns the seconds it took."""
    start = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    samples.write_csv(samples.sample_rows(load_shipped_catalog(), rows, seed=seed), tmp)
    tmp.replace(path)
    return time.perf_counter() - start


def cached_csv(rows: int, seed: int = SEED) -> tuple[Path, bool]:
    """A generated file in _out/, reused when it has the same size, seed and inputs."""
    path = OUT / f"batch_{rows}.csv"
    meta_path = OUT / f"batch_{rows}.meta.json"
    wanted = {"rows": rows, "seed": seed, "inputs": _inputs_fingerprint()}
    if path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if {k: meta.get(k) for k in wanted} == wanted and meta.get("bytes") == path.stat().st_size:
            return path, True
    generate_csv(path, rows, seed)
    meta_path.write_text(json.dumps({**wanted, "bytes": path.stat().st_size}), encoding="utf-8")
    return path, False


# ------------------------------------------------------------------ running the CLI


def cli_path() -> str:
    """The ``window-client`` script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "window-client"
    if beside.is_file():
        return str(beside)
    found = shutil.which("window-client")
    if not found:
        sys.exit("window-client not found: run this with the project's .venv/bin/python")
    return found


@dataclass
class CliRun:
    """One measured ``batch accept`` run."""

    rows: int
    wall_s: float
    peak_rss_kib: int
    exit_code: int
    counts: dict[str, int]
    db_path: Path
    stdout: str
    stderr: str
    problems: list[str] = field(default_factory=list)


_ROW = re.compile(r"^\W*([a-z_]+)\s*[│|].*[│|]\s*(\d+)\s*[│|]?\s*$")


def parse_summary(stdout: str) -> dict[str, int]:
    """Status counts from the CLI's summary table (status name in the first column)."""
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        match = _ROW.match(line)
        if match and (match.group(1) in STATUSES or match.group(1) == "total"):
            counts[match.group(1)] = int(match.group(2))
    return counts


# Runs the CLI and reports the wall time and peak RSS of that child alone. The wrapper is a
# small, fresh interpreter on purpose: a child's ru_maxrss starts from the high-water mark of the
# process that spawned it (subprocess spawns with vfork, and exec keeps the old mm's peak), so
# a child spawned straight from this benchmark, which holds every row the batch wrote for the
# baseline, would report this process's peak instead of its own.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as fh:
    json.dump({"wall_s": wall, "maxrss_kib": peak, "exit_code": code}, fh)
"""


def run_cli(csv_path: Path, home: Path, rows: int) -> CliRun:
    """Run ``window-client batch accept`` in a child process with a fresh WINDOW_CLIENT_HOME.

    The wall time runs from just before the child is spawned to its exit, and the peak RSS is
    that child's own (see ``_WRAPPER``): both are taken by a wrapper that runs only this child.
    """
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for name in ("WINDOW_CLIENT_STATION", "WINDOW_CLIENT_USER", "WINDOW_CLIENT_PASSWORD"):
        env.pop(name, None)
    env.update(WINDOW_CLIENT_HOME=str(home), COLUMNS="200", NO_COLOR="1", PYTHONIOENCODING="utf-8")
    figures_path = home.parent / f"{home.name}.figures.json"
    argv = [sys.executable, "-I", "-S", "-c", _WRAPPER, str(figures_path)]
    argv += [cli_path(), "batch", "accept", str(csv_path), "--today", TODAY]
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        wrapper = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, check=False)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if wrapper.returncode != 0 or not figures_path.is_file():
        raise RuntimeError(f"the measuring wrapper failed ({wrapper.returncode}): {stderr}")
    figures = json.loads(figures_path.read_text(encoding="utf-8"))
    run = CliRun(
        rows=rows,
        wall_s=float(figures["wall_s"]),
        peak_rss_kib=int(figures["maxrss_kib"]),  # KiB on Linux
        exit_code=int(figures["exit_code"]),
        counts=parse_summary(stdout),
        db_path=home / "station.db",
        stdout=stdout,
        stderr=stderr,
    )
    check_run(run)
    return run


def check_run(run: CliRun) -> None:
    """Sanity (not timing): a usable run with every kind of outcome, matching the store."""
    if run.exit_code != 1:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        run.problems.append(f"exit code {run.exit_code} (expected 1): {tail}")
        return
    for status in MUST_BE_NONZERO:
        if run.counts.get(status, 0) <= 0:
            run.problems.append(f"summary count of {status!r} is {run.counts.get(status, 0)}")
    if run.counts.get("total") != run.rows:
        run.problems.append(f"summary total {run.counts.get('total')} != {run.rows} rows")
    if not run.db_path.is_file():
        run.problems.append(f"no store at {run.db_path}")
        return
    with closing(sqlite3.connect(run.db_path)) as conn:
        by_state = dict(conn.execute("SELECT state, COUNT(*) FROM cases GROUP BY state"))
    for state in WRITTEN_STATES:
        if by_state.get(state, 0) != run.counts.get(state, 0):
            run.problems.append(
                f"store holds {by_state.get(state, 0)} {state} cases, summary says {run.counts.get(state, 0)}"
            )


# ------------------------------------------------------------------ the physical baseline


def _q(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def read_written(db_path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of every table the batch wrote: table -> (columns, rows in rowid order)."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if name not in SKIPPED_TABLES
        ]
        written = {}
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({_q(table)})")]
            quoted = ", ".join(_q(c) for c in columns)
            rows = conn.execute(f"SELECT {quoted} FROM {_q(table)} ORDER BY rowid").fetchall()
            written[table] = (columns, rows)
        return written
    finally:
        conn.close()


def fresh_store(path: Path) -> None:
    """A new file with the product's schema and pragmas, and no rows.

    Migrations seed a few rows of their own (``meta``'s creation time); they are deleted here,
    untimed, so the copy of the batch's store holds exactly what that store holds.
    """
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    engine = make_engine(path)
    migrate(engine)
    engine.dispose()
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            if name not in SKIPPED_TABLES
        ]
        conn.execute("BEGIN")
        for table in tables:
            conn.execute(f"DELETE FROM {_q(table)}")
        conn.execute("COMMIT")


def baseline_once(path: Path, written: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> float:
    """Seconds raw sqlite3 takes to insert ``written`` into a fresh file in one transaction."""
    fresh_store(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:  # the product's own (WAL, synchronous=FULL, ...)
            conn.execute(f"PRAGMA {pragma}")
        statements = [
            (
                f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
            for table, (columns, rows) in written.items()
            if rows
        ]
        start = time.perf_counter()
        conn.execute("BEGIN")
        for sql, rows in statements:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        for table, (_, rows) in written.items():
            (count,) = conn.execute(f"SELECT COUNT(*) FROM {_q(table)}").fetchone()
            if count != len(rows):
                raise RuntimeError(f"baseline wrote {count} rows to {table}, expected {len(rows)}")
    finally:
        conn.close()
    return elapsed


# ------------------------------------------------------------------ main


def interleaved(
    csv_path: Path, work: Path, rows: int, repeat: int
) -> tuple[list[CliRun], list[float], list[float], dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """``repeat`` CLI runs, each followed by a baseline insert of the rows the first run wrote.

    Returns the runs, the baseline times (one after each run) and each run's ratio: its wall
    time over the mean of the baselines just before and just after it (the first run has only
    the one after), so a run and its limit are measured under the same load of the machine.
    """
    runs: list[CliRun] = []
    bases: list[float] = []
    written: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for n in range(repeat):
        run = run_cli(csv_path, work / f"home_{n}", rows)
        runs.append(run)
        if run.exit_code not in (0, 1) or not run.db_path.is_file():
            return runs, bases, [], written
        if not written:
            written = read_written(run.db_path)
        bases.append(baseline_once(work / f"baseline_{n}.db", written))
    ratios = [run.wall_s / (statistics.mean(bases[max(n - 1, 0) : n + 1])) for n, run in enumerate(runs)]
    return runs, bases, ratios, written


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run everything; returns the figures."""
    rows = 10_000 if args.quick and args.rows is None else (args.rows or 50_000)
    skip_big = args.skip_big or args.quick
    result: dict[str, Any] = {"benchmark": "batch", "rows": rows, "today": TODAY}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        work = Path(tmp)
        csv_path = work / f"batch_{rows}.csv"
        result["generate_s"] = round(generate_csv(csv_path, rows, args.seed), 3)
        runs, bases, ratios, written = interleaved(csv_path, work, rows, args.repeat)
        for run in runs:
            problems += [f"{rows}-row run: {p}" for p in run.problems]
        if not ratios:
            result["problems"] = problems
            result["failed"] = True
            return result
        walls = [r.wall_s for r in runs]
        wall = statistics.median(walls)
        main = runs[-1]
        result.update(
            batch_wall_s=round(wall, 3),
            batch_wall_runs_s=[round(w, 3) for w in walls],
            baseline_s=round(statistics.median(bases), 3),
            baseline_runs_s=[round(t, 3) for t in bases],
            ratio=round(max(ratios), 2),  # the worst run: the bar holds on every run
            ratios=[round(r, 2) for r in ratios],
            target_ratio=TARGET_RATIO,
            rows_per_s=round(rows / wall),
            counts={s: main.counts.get(s, 0) for s in STATUSES},
            table_rows={t: len(r) for t, (_, r) in written.items()},
            rows_written=sum(len(r) for _, r in written.values()),
            peak_rss_mib=round(min(r.peak_rss_kib for r in runs) / 1024, 1),
        )
        del written
        if not skip_big:
            big_path, reused = cached_csv(args.big, args.seed)
            link = work / big_path.name  # rejects land beside the input: keep them in tmp
            link.symlink_to(big_path)
            big = run_cli(link, work / "home_big", args.big)
            problems += [f"{args.big}-row run: {p}" for p in big.problems]
            small_rss = result["peak_rss_mib"]
            big_rss = round(big.peak_rss_kib / 1024, 1)
            result.update(
                big_rows=args.big,
                big_file_reused=reused,
                big_wall_s=round(big.wall_s, 3),
                big_rows_per_s=round(args.big / big.wall_s),
                big_counts={s: big.counts.get(s, 0) for s in STATUSES},
                peak_rss_big_mib=big_rss,
                rss_ratio=round(big_rss / small_rss, 2) if small_rss else None,
                target_rss_ratio=TARGET_RSS_RATIO,
                # rows/s of the big run relative to the small one (1.0 = no slow-down with size)
                throughput_ratio_big=round((args.big / big.wall_s) / (rows / wall), 2),
            )
    result["problems"] = problems
    return result


def report(result: dict[str, Any]) -> str:
    """The short human-readable block."""
    if result.get("failed"):
        return "\n".join(
            [f"batch acceptance, {result['rows']:,} rows: THE RUN FAILED"]
            + [f"    - {p}" for p in result["problems"]]
        )
    c = result["counts"]
    runs = len(result["ratios"])
    lines = [
        f"batch acceptance, {result['rows']:,} rows (--today {result['today']})",
        f"  window-client batch accept  {result['batch_wall_s']:8.2f} s"
        f"  ({result['rows_per_s']:,} rows/s, median of {runs}; peak RSS {result['peak_rss_mib']} MiB)",
        f"  raw sqlite3 baseline        {result['baseline_s']:8.2f} s"
        f"  ({result['rows_written']:,} rows in one transaction, median of {runs})",
        "  runs (s):      " + "  ".join(f"{w:6.2f}" for w in result["batch_wall_runs_s"]),
        "  baselines (s): " + "  ".join(f"{b:6.2f}" for b in result["baseline_runs_s"]),
        "  ratios:        " + "  ".join(f"{r:6.2f}" for r in result["ratios"]),
        f"  worst ratio batch/baseline  {result['ratio']:8.2f}   (target <= {TARGET_RATIO} on every run)",
        "  outcomes: " + ", ".join(f"{s} {c[s]:,}" for s in STATUSES),
        "  rows written: " + ", ".join(f"{t} {n:,}" for t, n in result["table_rows"].items()),
    ]
    if "big_rows" in result:
        lines += [
            f"  {result['big_rows']:,} rows: {result['big_wall_s']:.2f} s"
            f" ({result['big_rows_per_s']:,} rows/s), peak RSS {result['peak_rss_big_mib']} MiB"
            + (" [input file reused]" if result["big_file_reused"] else ""),
            f"  peak RSS ratio {result['big_rows']:,}/{result['rows']:,}:"
            f" {result['rss_ratio']:.2f}   (target well under {TARGET_RSS_RATIO:g});"
            f" throughput ratio {result['throughput_ratio_big']:.2f}",
        ]
    else:
        lines.append("  big run skipped")
    if result["problems"]:
        lines.append("  SANITY PROBLEMS:")
        lines += [f"    - {p}" for p in result["problems"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="10,000 rows and no big run")
    parser.add_argument("--rows", type=int, default=None, help="rows of the main run (50000)")
    parser.add_argument("--big", type=int, default=500_000, help="rows of the memory run")
    parser.add_argument("--skip-big", action="store_true", help="skip the memory run")
    parser.add_argument("--repeat", type=int, default=5, help="CLI runs, each with its baseline")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    result = measure(args)
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
