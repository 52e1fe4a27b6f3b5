"""Run every benchmark in tests/bench/ one after the other and print a summary of their figures.

    .venv/bin/python tests/bench/run_all.py             # full runs (batch includes 500k rows)
    .venv/bin/python tests/bench/run_all.py --quick     # 10,000 batch rows, no 500k run, 50k cases
    .venv/bin/python tests/bench/run_all.py --skip-big  # full 50k batch, no 500k run
    .venv/bin/python tests/bench/run_all.py --json      # one JSON object: {name: figures}

Each benchmark runs in its own process (``bench_X.py --json``), sequentially, so they do not
compete for the CPU. The exit code is 1 when a benchmark failed or reported sanity problems.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "bench_batch", "bench_search", "bench_verify", "bench_startup", "bench_ledger", "bench_sync",
    "bench_queue", "bench_archive", "bench_crosshall",
)  # fmt: skip


def run(name: str, extra: list[str]) -> dict[str, Any]:
    """One benchmark's JSON figures (or an error entry)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), "--json", *extra],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    elapsed = round(time.perf_counter() - start, 1)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        return {"error": f"exit code {proc.returncode}: {tail}", "elapsed_s": elapsed}
    figures: dict[str, Any] = json.loads(lines[-1])
    figures["elapsed_s"] = elapsed
    figures["exit_code"] = proc.returncode
    return figures


def summary_rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(benchmark, figure, value) lines of the summary table."""
    rows: list[tuple[str, str, str]] = []
    batch = results.get("bench_batch", {})
    if "error" in batch or batch.get("failed"):
        rows.append(("batch", "FAILED", batch.get("error") or "; ".join(batch["problems"])))
    elif batch:
        n = f"{batch['rows']:,}"
        rows += [
            ("batch", f"wall time, {n} rows", f"{batch['batch_wall_s']:.2f} s"),
            ("batch", "raw sqlite3 baseline", f"{batch['baseline_s']:.2f} s"),
            ("batch", "rows written (all tables)", f"{batch['rows_written']:,}"),
            ("batch", "ratio of each run", "  ".join(f"{r:.2f}" for r in batch["ratios"])),
            ("batch", "worst ratio batch/baseline", f"{batch['ratio']:.2f}  (target <= 4.0 on every run)"),
            ("batch", f"peak RSS, {n} rows", f"{batch['peak_rss_mib']} MiB"),
        ]
        if "big_rows" in batch:
            big = f"{batch['big_rows']:,}"
            rows += [
                ("batch", f"wall time, {big} rows", f"{batch['big_wall_s']:.2f} s"),
                ("batch", f"peak RSS, {big} rows", f"{batch['peak_rss_big_mib']} MiB"),
                ("batch", "peak RSS ratio big/small", f"{batch['rss_ratio']:.2f}  (target << 10)"),
                ("batch", "throughput ratio big/small", f"{batch['throughput_ratio_big']:.2f}"),
            ]
        else:
            rows.append(("batch", "500k run", "skipped"))
        if batch.get("problems"):
            rows.append(("batch", "SANITY PROBLEMS", "; ".join(batch["problems"])))
    search = results.get("bench_search", {})
    if "error" in search:
        rows.append(("search", "FAILED", search["error"]))
    elif search:
        for q in search["queries"]:
            rows.append(
                (
                    "search",
                    f"{q['query']!r} ms/query",
                    f"{q['search_ms']:.3f} (scan {q['scan_ms']:.3f}, ratio {q['ratio']:.2f})",
                )
            )
        rows += [
            (
                "search",
                "max ms/query",
                f"{search['search_ms_max']:.3f} ({search['worst_query']!r})  (target < 2 ms)",
            ),
            ("search", "over target", ", ".join(search["over_target"]) or "none"),
            ("search", "geometric-mean ratio", f"{search['ratio_geomean']}"),
        ]
    verify = results.get("bench_verify", {})
    if "error" in verify:
        rows.append(("verify", "FAILED", verify["error"]))
    elif verify:
        n = f"{verify['certificates']:,}"
        rows += [
            ("verify", f"ours, {n} certificates", f"{verify['ours_per_s']:.1f} certificates/s"),
            ("verify", "bare C verify (OpenSSL)", f"{verify['bare_per_s']:.1f} certificates/s"),
            ("verify", "ratio bare/ours", f"{verify['ratio']:.3f}  (target >= {verify['target_ratio']})"),
            ("verify", "gmssl verify (reference)", f"{verify['gmssl_verify_per_s']:.1f} certificates/s"),
            ("verify", "sign, ours", f"{verify['sign_per_s']:.1f} signatures/s"),
            ("verify", "sign, gmssl (reference)", f"{verify['gmssl_sign_per_s']:.1f} signatures/s"),
        ]
        if verify.get("problems"):
            rows.append(("verify", "SANITY PROBLEMS", "; ".join(verify["problems"])))
    startup = results.get("bench_startup", {})
    if "error" in startup:
        rows.append(("startup", "FAILED", startup["error"]))
    elif startup:
        rows += [
            ("startup", "bare Textual app, one Input", f"{startup['bare_s']:.3f} s"),
            ("startup", "window-client sign-in screen", f"{startup['window_client_s']:.3f} s"),
            ("startup", "ratio (medians)", f"{startup['ratio']:.2f}  (target <= {startup['target']})"),
            ("startup", "ratio (best runs)", f"{startup['ratio_best']:.2f}"),
        ]
    ledger = results.get("bench_ledger", {})
    if "error" in ledger:
        rows.append(("ledger", "FAILED", ledger["error"]))
    elif ledger:
        n = f"{ledger['cases']:,}"
        for name in ("workbench", "ledger", "dayclose"):
            target = f"  (target < {ledger['target_s']} s on every open)" if name != "dayclose" else ""
            rows.append(
                (
                    "ledger",
                    f"open {name}, {n} cases",
                    f"{ledger[name + '_s']:.3f} s (first {ledger[name + '_first_s']:.3f},"
                    f" max {ledger[name + '_max_s']:.3f},"
                    f" ratio to empty {ledger[name + '_ratio']:.2f}){target}",
                )
            )
        for name in ("workbench", "ledger"):
            runs = "  ".join(f"{t:.3f}" for t in ledger[name + "_runs_s"])
            rows.append(("ledger", f"{name}, every open (s)", runs))
        rows.append(
            (
                "ledger",
                "peak RSS opening screens",
                f"{ledger['peak_rss_screens_mib']} MiB  (target < {ledger['target_rss_mib']} MB;"
                f" whole process {ledger['peak_rss_mib']} MiB)",
            )
        )
    sync = results.get("bench_sync", {})
    if "error" in sync:
        rows.append(("sync", "FAILED", sync["error"]))
    elif sync:
        n = f"{sync['operations']:,}"
        rows += [
            ("sync", f"push {n} ops over HTTP", f"{sync['push_s']:.3f} s ({sync['push_ops_per_s']:,} ops/s)"),
            ("sync", "bare insert of the same rows", f"{sync['baseline_insert_s']:.3f} s"),
            ("sync", "push ratio (throughput)", f"{sync['push_ratio']:.2f}  (target >= {sync['target']})"),
            ("sync", f"pull {sync['changes_pulled']:,} changes", f"{sync['pull_s']:.3f} s"),
            ("sync", "direct select of the same rows", f"{sync['baseline_select_s']:.3f} s"),
            ("sync", "pull ratio (throughput)", f"{sync['pull_ratio']:.2f}  (target >= {sync['target']})"),
        ]
        if sync.get("problems"):
            rows.append(("sync", "SANITY PROBLEMS", "; ".join(sync["problems"])))
    rows += _queue_rows(results.get("bench_queue", {}))
    rows += _archive_rows(results.get("bench_archive", {}))
    rows += _crosshall_rows(results.get("bench_crosshall", {}))
    return rows


def _crosshall_rows(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The summary lines of bench_crosshall."""
    if "error" in found:
        return [("cross", "FAILED", found["error"])]
    if not found:
        return []
    rows = [
        (
            "cross",
            f"forward {found['cases']:,} cases",
            "  ".join(f"{s:.2f}" for s in found["forward_s"]) + " s",
        ),
        ("cross", "owner's bare push of the same", "  ".join(f"{s:.2f}" for s in found["bare_s"]) + " s"),
        ("cross", "ratio forward/bare (median)", f"{found['ratio']:.2f}  (target >= {found['target']})"),
    ]
    if found.get("problems"):
        rows.append(("cross", "SANITY PROBLEMS", "; ".join(found["problems"])))
    return rows


def _archive_rows(archive: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The summary lines of bench_archive."""
    if "error" in archive:
        return [("archive", "FAILED", archive["error"])]
    if not archive:
        return []
    rows = [
        (
            "archive",
            f"export {archive['cases']:,} cases ({archive['files']:,} files)",
            f"{archive['export_s']:.3f} s",
        ),
        ("archive", "copy the same bytes + SM3", f"{archive['baseline_s']:.3f} s"),
        ("archive", "ratio of each round", "  ".join(f"{r:.2f}" for r in archive["ratios"])),
        (
            "archive",
            "ratio export/baseline (median)",
            f"{archive['ratio']:.2f}  (target <= {archive['target']})",
        ),
    ]
    if archive.get("problems"):
        rows.append(("archive", "SANITY PROBLEMS", "; ".join(archive["problems"])))
    return rows


def _queue_rows(queue: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The summary lines of bench_queue."""
    rows: list[tuple[str, str, str]] = []
    if "error" in queue:
        rows.append(("queue", "FAILED", queue["error"]))
    elif queue:
        n = f"{queue['waiting']:,}"
        rows += [
            (
                "queue",
                f"board refresh, {n} waiting",
                f"{queue['board_ms']:.2f} ms CPU  (target < {queue['target_ms']} ms)",
            ),
            ("queue", "of which reading the store", f"{queue['read_ms']:.2f} ms CPU"),
            ("queue", f"bare Rich table of {n} rows", f"{queue['baseline_ms']:.2f} ms CPU"),
            ("queue", "ratio board/baseline", f"{queue['ratio']:.3f}"),
        ]
        if queue.get("problems"):
            rows.append(("queue", "SANITY PROBLEMS", "; ".join(queue["problems"])))
    return rows


def _width(text: str) -> int:
    """Terminal columns of ``text``: CJK characters take two."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0x2E80)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small batch, no 500k run")
    parser.add_argument("--skip-big", action="store_true", help="no 500k batch run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    for name in BENCHMARKS:
        extra = ["--quick"] if args.quick else []
        if name == "bench_batch" and args.skip_big:
            extra.append("--skip-big")
        if not args.json:
            print(f"running {name} {' '.join(extra)}".rstrip() + " ...", flush=True)
        results[name] = run(name, extra)
    failed = any("error" in r or r.get("exit_code") or r.get("problems") for r in results.values())
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 1 if failed else 0
    rows = summary_rows(results)
    width = max(_width(figure) for _, figure, _ in rows)
    print()
    for bench, figure, value in rows:
        print(f"{bench:<7} {figure}{' ' * (width - _width(figure))}  {value}")
    print()
    print("elapsed: " + ", ".join(f"{n} {r['elapsed_s']} s" for n, r in results.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
