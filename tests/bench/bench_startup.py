"""Cold start of the counter: ``window-client`` against a bare Textual app showing one Input.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_startup.py          # 15 alternating runs of each
    .venv/bin/python tests/bench/bench_startup.py --quick  # 5 runs of each
    .venv/bin/python tests/bench/bench_startup.py --json   # one JSON object on stdout

Each run starts a fresh process on its own pseudo-terminal (80x24, TERM=xterm-256color) and
reads what it draws. The clock stops when the first interactive screen is on the terminal: an
Input with the placeholder 工号, drawn *focused* (Textual draws the cursor on the first
character, so 工 and 号 come with different styles — an unfocused Input would draw them as one
run of text). For ``window-client`` that is the staff-number field of the sign-in screen; the
baseline is a bare Textual app whose only widget is such an Input. Runs alternate (baseline,
window-client, baseline, …) so that both see the same machine load, and the figure is

    ratio = median(window-client) / median(bare app)      target: at most 1.5

and, because a shared machine is noisy, ``ratio_best`` = best(window-client) / best(bare app).

The station's data directory is prepared first (one untimed run seeds the demo staff and the
sample cases), as on a counter terminal switched on in the morning. For information, the time
until the station's data is open in the background (its name appears on the sign-in screen, so
a sign-in is checked at once) is reported as ``station_open_s``; it has no target.

Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_RATIO = 1.5
SIZE = (80, 24)
# 工, then one or more style changes (the cursor ends), then 号: the focused placeholder.
FOCUSED_INPUT = re.compile("工".encode() + rb"(?:\x1b\[[0-9;:]*m)+" + "号".encode())
BARE_APP = """
from textual.app import App
from textual.widgets import Input


class Bare(App[None]):
    def compose(self):
        yield Input(placeholder="工号")


Bare().run()
"""
CTRL_Q = b"\x11"


@dataclass
class Run:
    """One start: seconds to the focused Input, and optionally to a second marker."""

    first_screen_s: float
    second_marker_s: float | None


def _window_client() -> list[str]:
    script = Path(sys.executable).parent / "window-client"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the project (pip install -e .)")
    return [str(script)]


def start_once(argv: list[str], env: dict[str, str], second: bytes | None, timeout: float = 60.0) -> Run:
    """Start ``argv`` on a fresh pseudo-terminal; time the focused Input (and ``second``)."""
    master, slave = pty.openpty()
    rows, cols = SIZE[1], SIZE[0]
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
    )
    os.close(slave)
    seen = bytearray()
    first: float | None = None
    second_at: float | None = None
    quit_sent = False
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal: it has exited
                    break
                if not chunk:
                    break
                now = time.perf_counter() - start
                seen += chunk
                if first is None and FOCUSED_INPUT.search(seen):
                    first = now
                if second is not None and second_at is None and second in seen:
                    second_at = now
            done = first is not None and (second is None or second_at is not None)
            if done and not quit_sent:
                os.write(master, CTRL_Q)
                quit_sent = True
            if proc.poll() is not None and not ready:
                break
    finally:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()  # only the child this function started
            proc.wait()
        os.close(master)
    if first is None:
        tail = bytes(seen[-400:]).decode("utf-8", "replace")
        raise SystemExit(f"{argv[0]}: no focused Input within {timeout} s; last output: {tail!r}")
    return Run(first, second_at)


def measure(runs: int) -> dict[str, Any]:
    """Alternating timed starts of the bare app and ``window-client``."""
    from window_client.services.catalog import load_shipped_catalog

    station_name = load_shipped_catalog().default_station().name.encode()
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        bare = work / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "WINDOW_CLIENT_HOME": str(work / "home"),
        }
        env.pop("WINDOW_CLIENT_STATION", None)
        env.pop("TEXTUAL", None)
        client = _window_client()
        bare_argv = [sys.executable, str(bare)]
        # Untimed: seed the station, and warm the OS file cache for both programs.
        start_once(client, env, station_name, timeout=300)
        start_once(bare_argv, env, None)
        bare_s: list[float] = []
        client_s: list[float] = []
        open_s: list[float] = []
        for _ in range(runs):
            bare_s.append(start_once(bare_argv, env, None).first_screen_s)
            run = start_once(client, env, station_name)
            client_s.append(run.first_screen_s)
            if run.second_marker_s is not None:
                open_s.append(run.second_marker_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bare_median = statistics.median(bare_s)
    client_median = statistics.median(client_s)
    return {
        "benchmark": "startup",
        "runs": runs,
        "terminal": f"{SIZE[0]}x{SIZE[1]}",
        "bare_s": round(bare_median, 3),
        "window_client_s": round(client_median, 3),
        "ratio": round(client_median / bare_median, 2),
        "ratio_best": round(min(client_s) / min(bare_s), 2),
        "target": TARGET_RATIO,
        "bare_all_s": [round(x, 3) for x in bare_s],
        "window_client_all_s": [round(x, 3) for x in client_s],
        "station_open_s": round(statistics.median(open_s), 3) if open_s else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="5 runs of each instead of 15")
    parser.add_argument("--runs", type=int, default=None, help="timed runs of each program")
    args = parser.parse_args(argv)
    runs = args.runs or (5 if args.quick else 15)
    result = measure(runs)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"cold start to the focused sign-in Input, {result['terminal']}, median of {runs} runs each")
    print(f"  bare Textual app with one Input  {result['bare_s']:.3f} s")
    print(f"  window-client (sign-in screen)   {result['window_client_s']:.3f} s")
    print(f"  ratio of the medians             {result['ratio']:.2f}  (target <= {TARGET_RATIO})")
    print(f"  ratio of the best runs           {result['ratio_best']:.2f}")
    if result["station_open_s"] is not None:
        print(f"  station data open (no target)    {result['station_open_s']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
