"""CPU time of one refresh of the calling board (``window-client queue board``) with 2,000 waiting.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_queue.py          # 2,000 waiting tickets
    .venv/bin/python tests/bench/bench_queue.py --quick  # fewer refreshes
    .venv/bin/python tests/bench/bench_queue.py --json   # one JSON object on stdout

A store gets 2,000 waiting tickets (A, B and V; written with the service's repository in one
transaction, the rows the service writes), five windows holding a ticket and one paused. One
refresh is what the live board does every interval: read the board from the store
(:class:`~window_client.services.queue_board.BoardSource`, local) and render it
(:func:`~window_client.cli.queue_view.render_board`) to a 100x40 terminal. The baseline, in
the same run and on the same console size, renders a bare Rich table of the 2,000 waiting
tickets (ticket, category, state): what a board listing everyone would cost. Figures are CPU
ms per refresh (``time.process_time``, median of several runs) and ``ratio = board /
baseline``. Target: under 50 ms of CPU per refresh.

Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from models.queue import QueueCategory, Ticket, TicketState, ticket_number
from offline_cache import Store, queue_repo
from window_client.cli.queue_view import render_board
from window_client.services.queue import QueueService
from window_client.services.queue_board import BoardSource

TARGET_MS = 50.0
WAITING = 2000
START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
MIX = (QueueCategory.GENERAL,) * 6 + (QueueCategory.ENTERPRISE,) * 3 + (QueueCategory.PRIORITY,)


def console() -> Console:
    """The terminal both renders draw on (colours on, like a hall's screen)."""
    return Console(file=io.StringIO(), width=100, height=40, force_terminal=True, color_system="truecolor")


def seed(store: Store, station: str, waiting: int) -> QueueService:
    """``waiting`` waiting tickets plus five windows at work and one paused."""
    clock = [START]
    queue = QueueService(store, station, "bench", clock=lambda: clock[0])
    day = queue.today()
    with store.transaction("bench") as unit:
        for n in range(waiting + 5):
            category = MIX[n % len(MIX)]
            number = queue_repo.allocate_number(unit, station, day, category)
            moment = START + dt.timedelta(seconds=n)
            ticket = Ticket(station, day, ticket_number(category, number), number, category,
                            TicketState.WAITING, moment, moment)  # fmt: skip
            queue_repo.insert_ticket(unit, ticket)
    clock[0] = START + dt.timedelta(hours=2)
    for window in ("01", "02", "03", "04", "05"):
        queue.call_next(window)
    queue.pause("06", "系统维护")
    return queue


def cpu_ms(action: Callable[[], object], repeat: int, runs: int) -> tuple[float, list[float]]:
    """Median CPU ms per call over ``runs`` runs of ``repeat`` calls (and every run's figure)."""
    figures = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(repeat):
            action()
        figures.append((time.process_time() - start) * 1000 / repeat)
    return statistics.median(figures), figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer refreshes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    repeat, runs = (5, 3) if args.quick else (20, 5)
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "station.db")
        try:
            queue = seed(store, "GXZX", WAITING)
            source = BoardSource(queue)
            board_console, table_console = console(), console()

            def refresh() -> None:
                board_console.file = io.StringIO()
                board_console.print(render_board(source.read(), START, source.fallback_reason))

            tickets = queue.tickets(states=[TicketState.WAITING])

            def baseline() -> None:
                table = Table("号票", "类别", "状态")
                for t in tickets:
                    table.add_row(t.ticket, t.category.value, t.state.value)
                table_console.file = io.StringIO()
                table_console.print(table)

            refresh()
            shown = board_console.file.getvalue()  # type: ignore[attr-defined]
            board = source.read()
            if sum(board.waiting.values()) != WAITING or len(tickets) != WAITING:
                problems.append(f"{sum(board.waiting.values())} waiting on the board, {len(tickets)} listed")
            if "01号窗口" not in shown or "暂停服务" not in shown:
                problems.append("the board does not show the windows")
            board_ms, board_runs = cpu_ms(refresh, repeat, runs)
            read_ms, _ = cpu_ms(source.read, repeat, runs)
            baseline_ms, baseline_runs = cpu_ms(baseline, max(repeat // 4, 2), runs)
        finally:
            store.close()
    result: dict[str, Any] = {
        "waiting": WAITING,
        "board_ms": round(board_ms, 2),
        "board_runs_ms": [round(x, 2) for x in board_runs],
        "read_ms": round(read_ms, 2),
        "baseline_ms": round(baseline_ms, 2),
        "baseline_runs_ms": [round(x, 2) for x in baseline_runs],
        "ratio": round(board_ms / baseline_ms, 3),
        "target_ms": TARGET_MS,
        "problems": problems,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"calling board, {WAITING:,} waiting: {board_ms:.2f} ms CPU per refresh (target < {TARGET_MS} ms)"
        )
        print(f"  of which reading the store: {read_ms:.2f} ms")
        print(f"baseline, a Rich table of the {WAITING:,} tickets: {baseline_ms:.2f} ms CPU per render")
        print(f"ratio board/baseline: {board_ms / baseline_ms:.3f}")
        for problem in problems:
            print(f"SANITY PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
