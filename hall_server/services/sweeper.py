"""The server's background timeliness sweep: ``case.timeliness`` changes reach stations without
anyone running a command.

One thread, started with the app: a full sweep at start and every ``interval`` seconds (flags
turn yellow and red with the calendar, not with events), and a sweep of the cases a push
touched once pushes have been quiet for ``quiet`` seconds (at most ``max_wait`` after the first).
It works outside the push's transaction, so a push pays nothing for it and a burst of pushes
(a station catching up after days offline) is swept once, after the burst. A failed sweep is
logged and tried again at the next turn; it never stops the server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError

from hall_server.services.timeliness import TimelinessDesk

log = logging.getLogger("hall_server.timeliness")

DEFAULT_INTERVAL_SECONDS = 600.0
QUIET_SECONDS = 5.0
MAX_WAIT_SECONDS = 120.0


class TimelinessSweeper:
    """Runs :meth:`TimelinessDesk.sweep` in a daemon thread (see the module text)."""

    def __init__(
        self,
        desk: TimelinessDesk,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        quiet: float = QUIET_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.desk = desk
        self.interval = interval
        self.quiet = quiet
        self.max_wait = max_wait
        self._pending: set[str] = set()
        self._first_touch = self._last_touch = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touched(self, case_nos: Iterable[str]) -> None:
        """Cases a push changed: swept once pushes are quiet."""
        names = {n for n in case_nos if n}
        if not names:
            return
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._first_touch = now
            self._pending |= names
            self._last_touch = now
        self._wake.set()

    def start(self) -> None:
        """Start the thread (a full sweep first)."""
        self._thread = threading.Thread(target=self._run, name="timeliness-sweep", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10.0) -> None:
        """Stop the thread (waits up to ``wait`` seconds for a sweep in progress)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait)

    def _due_batch(self, now: float) -> list[str] | None:
        with self._lock:
            if not self._pending:
                return None
            if now - self._last_touch < self.quiet and now - self._first_touch < self.max_wait:
                return None
            batch, self._pending = sorted(self._pending), set()
            return batch

    def _sweep(self, case_nos: list[str] | None) -> None:
        try:
            self.desk.sweep(case_nos)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            log.warning("timeliness sweep failed (tried again later): %s", exc)
            if case_nos:
                self.touched(case_nos)

    def _run(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_full:
                self._sweep(None)
                next_full = now + self.interval
            batch = self._due_batch(now)
            if batch is not None:
                self._sweep(batch)
            with self._lock:
                waiting = bool(self._pending)
            timeout = min(self.quiet if waiting else self.interval, max(0.05, next_full - time.monotonic()))
            self._wake.wait(timeout)
            self._wake.clear()
