"""Catalogue search speed on a catalogue padded to 10,000 entries.

The catalogue is padded the way a city-wide catalogue grows: the shipped packages and items,
then copies of the items named as their sub-items are (食品经营许可（延续）（分支机构）, …).

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_search.py          # 10,000 entries
    .venv/bin/python tests/bench/bench_search.py --quick  # fewer repetitions
    .venv/bin/python tests/bench/bench_search.py --json   # one JSON object on stdout

For each query, ``CatalogSearch.search(q, 50)`` is timed against a baseline measured in the same
run: a plain Python substring scan over the same entry names, ``[e for e in entries if q in
e.name]``. Figures are ms per query (median of several timing runs, each of many calls) and
``ratio = search_ms / scan_ms``. Target: every query under 2 ms.

Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from models.catalog import Acceptable
from window_client.services.catalog import CatalogSearch, load_shipped_catalog

TARGET_MS = 2.0
QUERIES = (
    "bdcdj", "budongchan", "不动产", "qykb", "shehui", "营业执照", "spjy", "gjj", "tq",
    "住房公积金提取", "xx", "zzz", "d",
)  # fmt: skip
# Variants the way real catalogues name sub-items (办理项): the act, then the scope.
ACTS = (
    "", "（变更）", "（延续）", "（补办）", "（注销）", "（新办）", "（遗失补领）", "（分支机构）",
    "（告知承诺制）",
)  # fmt: skip
SCOPES = (
    "", "第一类", "第二类", "第三类", "（市级）", "（区县级）", "（跨省通办）", "（网上办理）",
    "（个人）", "（单位）", "（港澳台居民）", "（外商投资）",
)  # fmt: skip


def padded_entries(count: int) -> list[Acceptable]:
    """``count`` entries: the shipped 一件事 packages and items first (so "qykb" finds 企业开办
    as at the window), then copies of the items with varied names and codes."""
    catalog = load_shipped_catalog()
    items = list(catalog.items.values())
    suffixes = [act + scope for act in ACTS for scope in SCOPES][1:]
    entries: list[Acceptable] = [*catalog.packages.values(), *items][:count]
    copies = count - len(entries)
    if copies > len(items) * len(suffixes):
        raise SystemExit(f"at most {len(entries) + len(items) * len(suffixes)} distinct entries")
    for n in range(copies):
        item = items[n % len(items)]
        suffix = suffixes[n // len(items)]
        entries.append(dataclasses.replace(item, code=f"{item.code}-{n}", name=item.name + suffix))
    return entries


def per_call_ms(call: Callable[[], object], runs: int, min_time: float) -> float:
    """Median over ``runs`` of the mean time of one call, each run lasting >= ``min_time`` s."""
    call()  # warm up
    reps = 1
    while True:  # calibrate: enough calls per run to dwarf the timer's resolution
        start = time.perf_counter()
        for _ in range(reps):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        reps = max(reps * 2, int(reps * min_time / max(elapsed, 1e-9) * 1.2))
    samples = [elapsed / reps]
    for _ in range(runs - 1):
        start = time.perf_counter()
        for _ in range(reps):
            call()
        samples.append((time.perf_counter() - start) / reps)
    return statistics.median(samples) * 1000


def measure(
    entries: Sequence[Acceptable], queries: Sequence[str], runs: int, min_time: float
) -> tuple[float, list[dict[str, Any]]]:
    """Per-query figures, and the time to build the index."""
    start = time.perf_counter()
    search = CatalogSearch(entries)
    build_s = time.perf_counter() - start
    rows = []
    for q in queries:
        hits = search.search(q, 50)
        scanned = [e for e in entries if q in e.name]
        search_ms = per_call_ms(lambda q=q: search.search(q, 50), runs, min_time)
        scan_ms = per_call_ms(lambda q=q: [e for e in entries if q in e.name], runs, min_time)
        rows.append(
            {
                "query": q,
                "search_ms": round(search_ms, 4),
                "scan_ms": round(scan_ms, 4),
                "ratio": round(search_ms / scan_ms, 2),
                "hits": len(hits),
                "scan_hits": len(scanned),
                "top": hits[0].name if hits else None,
            }
        )
    return build_s, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter timing runs")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=None, help="timing runs per query (7)")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    min_time = 0.05 if args.quick else 0.2
    entries = padded_entries(args.entries)
    build_s, rows = measure(entries, QUERIES, runs, min_time)
    search_all = [r["search_ms"] for r in rows]
    over = [r["query"] for r in rows if r["search_ms"] >= TARGET_MS]
    result: dict[str, Any] = {
        "benchmark": "search",
        "entries": len(entries),
        "build_s": round(build_s, 3),
        "runs": runs,
        "queries": rows,
        "search_ms_median": round(statistics.median(search_all), 4),
        "search_ms_max": round(max(search_all), 4),
        "worst_query": max(rows, key=lambda r: r["search_ms"])["query"],
        "scan_ms_median": round(statistics.median(r["scan_ms"] for r in rows), 4),
        "ratio_geomean": round(statistics.geometric_mean(r["ratio"] for r in rows), 2),
        "target_ms": TARGET_MS,
        "over_target": over,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"catalogue search, {len(entries):,} entries (index built in {build_s:.2f} s)")
    print(f"  {'query':<16}{'search ms':>10}{'scan ms':>10}{'ratio':>8}{'hits':>6}  top hit")
    for r in rows:
        flag = " *" if r["search_ms"] >= TARGET_MS else "  "
        print(
            f"  {r['query']:<{16 - _wide(r['query'])}}{r['search_ms']:>10.3f}{r['scan_ms']:>10.3f}"
            f"{r['ratio']:>8.2f}{r['hits']:>6}{flag}{r['top'] or '-'}"
        )
    print(
        f"  median {result['search_ms_median']:.3f} ms, max {result['search_ms_max']:.3f} ms"
        f" ({result['worst_query']!r})"
        f" (target < {TARGET_MS} ms per query); geometric-mean ratio {result['ratio_geomean']}"
    )
    print("  over target: " + (", ".join(over) if over else "none"))
    return 0


def _wide(text: str) -> int:
    """How many extra terminal columns wide (CJK) characters take, for alignment."""
    return sum(1 for ch in text if ord(ch) > 0x2E80)


if __name__ == "__main__":
    sys.exit(main())
