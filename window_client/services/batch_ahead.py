"""Reading a batch one chunk ahead while the chunk before it is committed.

A chunk's COMMIT spends most of its time waiting for the disk (``synchronous=FULL`` fsyncs the
WAL), and SQLite waits without holding the GIL. :class:`CommitAhead` commits in a helper
thread and returns once that wait has begun, so the caller reads and checks the next chunk
meanwhile. Everything that depends on the store (standings, dedupe keys, case numbers) is still
decided one chunk after the other, each only once the chunk before it is committed.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from models.problems import Problem
from window_client.services.batch_files import RawRow

if TYPE_CHECKING:
    from models.catalog import Acceptable
    from window_client.services.acceptance import AcceptanceRequest


@dataclass
class Prepared:
    """A chunk as read and checked before it is decided: each row's request (None when the
    row cannot become one), its row-level problems, and what validation said of the request."""

    rows: list[RawRow]
    parsed: list[tuple[AcceptanceRequest | None, list[Problem]]]
    validated: list[tuple[Acceptable | None, list[Problem]] | None]


@dataclass
class Ahead:
    """The next chunk, or the failure met while reading it (raised once the chunk before it is
    reported), or neither at the end of the file."""

    chunk: Prepared | None
    failure: BaseException | None = None


def read_ahead(chunks: Iterator[list[RawRow]], prepare: Callable[[list[RawRow]], Prepared]) -> Ahead:
    """The next chunk of ``chunks``, prepared; a failure is kept for later, not raised."""
    try:
        rows = next(chunks, None)
        return Ahead(None if rows is None else prepare(rows))
    except BaseException as exc:  # re-raised by the caller, in file order
        return Ahead(None, exc)


class CommitAhead:
    """Commits in one helper thread; :meth:`commit` returns once the commit waits on the disk."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-commit")

    def commit(self, write: Callable[[Callable[[], None]], None]) -> Future[None]:
        """Run ``write(before_commit)`` in the helper thread; return when it calls
        ``before_commit`` (its COMMIT is next) or has finished (nothing to commit, or failed)."""
        syncing = threading.Event()
        future = self._pool.submit(write, syncing.set)
        future.add_done_callback(lambda _done: syncing.set())
        syncing.wait()
        return future

    @staticmethod
    def done() -> Future[None]:
        """A finished write (a dry run writes nothing)."""
        future: Future[None] = Future()
        future.set_result(None)
        return future

    def __enter__(self) -> CommitAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # A commit still running (the caller failed meanwhile) finishes before the caller goes on.
        self._pool.shutdown(wait=True)


@contextmanager
def collector_per_chunk(every: int = 16) -> Iterator[Callable[[], None]]:
    """Run the cyclic garbage collector on the young objects once every ``every`` chunks
    instead of every 700 allocations.

    A chunk allocates tens of thousands of short-lived objects, nearly all freed by reference
    counting; the automatic collector kept walking them, and now and then every object of the
    process, for about a tenth of a batch's time. A pass over the young generations still
    frees any cycle the chunks left, so memory stays flat; it costs about the same whenever it
    runs (it walks the chunks still alive), hence not after every chunk. The collector's state
    is restored afterwards (and it is left alone where someone had switched it off).
    """
    if not gc.isenabled():
        yield _nothing
        return
    done = 0

    def collect() -> None:
        nonlocal done
        done += 1
        if done % every == 0:
            gc.collect(1)

    gc.disable()
    try:
        yield collect
    finally:
        gc.enable()


def _nothing() -> None:
    pass


def chunks(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    chunk: list[RawRow] = []
    for raw in rows:
        chunk.append(raw)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prepend(first: RawRow, rest: Iterator[RawRow]) -> Iterator[RawRow]:
    yield first
    yield from rest


__all__ = ["Ahead", "CommitAhead", "Prepared", "chunks", "collector_per_chunk", "prepend", "read_ahead"]
