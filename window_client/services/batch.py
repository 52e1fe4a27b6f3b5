"""Batch acceptance from CSV (UTF-8, UTF-8 with BOM, GBK), XLSX and JSON lines.

Rows stream through in chunks: each chunk is decided with the same rules as the counter and
committed in one transaction, so memory stays flat however long the file is, a crash loses at
most the chunk in flight (and nothing that was reported accepted), and a re-run finds the
committed rows by their dedupe key: ``external_ref`` when the file has it, otherwise the
file's SHA-256 and the row number (the same file re-run accepts nothing twice).

This module runs a file; beside it, :mod:`.batch_files` reads the formats, :mod:`.batch_rows`
turns a row into a request, :mod:`.batch_ahead` reads the next chunk while the last one commits
and :mod:`.batch_report` writes the report and the rejects file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from models.identity import normalize_id
from models.problems import Language
from window_client.services.acceptance import AcceptanceService, Decision, Outcome
from window_client.services.batch_ahead import (
    CommitAhead,
    Prepared,
    chunks,
    collector_per_chunk,
    prepend,
    read_ahead,
)
from window_client.services.batch_files import (
    ALL_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BatchFileError,
    RawRow,
    read_rows,
)
from window_client.services.batch_report import (
    REJECTED,
    BatchSummary,
    RejectsWriter,
    ReportWriter,
    RowResult,
    rejects_path_for,
    row_result,
)
from window_client.services.batch_rows import parse_row
from window_client.services.tolerance import ApplicantStanding

__all__ = [  # reading, parsing and reporting live beside; callers import these names from here
    "ALL_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BatchFileError",
    "BatchRunner",
    "BatchSummary",
    "RawRow",
    "RowResult",
    "parse_row",
    "read_rows",
    "rejects_path_for",
]

CHUNK = 1000


def _fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 of the file and its number of line breaks (for the progress total)."""
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


class BatchRunner:
    """Runs one batch file through an :class:`AcceptanceService`.

    Args:
        service: the acceptance service (the counter's rules).
        chunk_size: rows decided and committed together.
        language: the language of the reasons in the rejects file and the report.
    """

    def __init__(
        self, service: AcceptanceService, chunk_size: int = CHUNK, language: Language = "zh"
    ) -> None:
        self.service = service
        self.chunk_size = chunk_size
        self.language = language

    def run(
        self,
        path: Path,
        today: dt.date,
        dry_run: bool = False,
        report_path: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> BatchSummary:
        """Accept every row of ``path``; raises :class:`BatchFileError` for a bad file.

        A dry run writes no rejects file (one from an earlier real run is left as it was): only
        the report, when one was asked for, says which rows would be rejected and why."""
        digest, lines = _fingerprint(path) if path.is_file() else ("", 0)
        rows = read_rows(path)
        first = next(rows, None)  # header problems surface before any output is created
        report = ReportWriter(report_path, self.language) if report_path else None
        rejects_file = None if dry_run else rejects_path_for(path)
        rejects = RejectsWriter(rejects_file, self.language) if rejects_file else None
        run = _Run(digest, today, dry_run, Counter(), report, rejects)
        try:
            stream = rows if first is None else prepend(first, rows)
            with collector_per_chunk() as collect, CommitAhead() as writer:
                for size in self._pipeline(chunks(stream, self.chunk_size), run, writer):
                    collect()
                    if on_progress and size == self.chunk_size:
                        on_progress(run.total, max(lines, run.total))
            if on_progress:
                on_progress(run.total, run.total)
        except BaseException:
            if rejects:
                rejects.close()
            if report:
                report.fh.close()
            raise
        if rejects:
            rejects.close()
        if report:
            report.close(run.counts)
        return BatchSummary(run.counts, run.total, rejects_file, report_path, dry_run)

    def _pipeline(self, chunks: Iterator[list[RawRow]], run: _Run, writer: CommitAhead) -> Iterator[int]:
        """Decide, write and report chunk after chunk; yields each chunk's size once reported.

        While SQLite syncs a chunk's commit to disk (without the GIL), the next chunk is read
        and checked (nothing that depends on the store); it is decided only once the commit
        has returned, and a chunk is reported only once it is committed. A file that turns out
        bad while read ahead fails after the chunk before it is reported, as if read in turn.
        """
        ahead = read_ahead(chunks, lambda chunk: self._prepare(chunk, run.digest))
        while ahead.chunk is not None:
            chunk = ahead.chunk
            decisions = self._decide(chunk, run.today)
            if run.dry_run:
                self.service.preview_duplicates(decisions, run.seen_keys)
                committed = writer.done()
            else:
                committed = writer.commit(partial(self.service.commit, decisions, run.today))
            ahead = read_ahead(chunks, lambda chunk: self._prepare(chunk, run.digest))
            committed.result()
            self._report(chunk.rows, decisions, run)
            yield len(chunk.rows)
        if ahead.failure is not None:
            raise ahead.failure

    def _prepare(self, chunk: list[RawRow], digest: str) -> Prepared:
        """Parse and validate a chunk: what does not depend on the store."""
        parsed = [parse_row(raw, digest) for raw in chunk]
        validate = self.service.validate
        checked = [None if request is None else validate(request) for request, _ in parsed]
        return Prepared(chunk, parsed, checked)

    def _decide(self, chunk: Prepared, today: dt.date) -> list[Decision]:
        service = self.service
        ids = [
            normalize_id(req.applicant.id)
            for req, _ in chunk.parsed
            if req is not None and len(req.applicant.id) <= 40
        ]
        standings = service.standings_of(ids)
        clean = ApplicantStanding()
        decisions: list[Decision] = []
        for (request, problems), validated in zip(chunk.parsed, chunk.validated, strict=True):
            if request is None:
                decisions.append(Decision(Outcome.INVALID, problems))
                continue
            standing = standings.get(normalize_id(request.applicant.id), clean)
            decision = service.decide(request, today, standing, validated=validated)
            if problems:
                # Row-level problems (bad type, bad commitment) join the service's own findings.
                found = decision.problems if decision.outcome is Outcome.INVALID else []
                decision = Decision(Outcome.INVALID, problems + found, decision.entry)
            decisions.append(decision)
        return decisions

    def _report(self, rows: Sequence[RawRow], decisions: Sequence[Decision], run: _Run) -> None:
        counts, report, rejects = run.counts, run.report, run.rejects
        for raw, decision in zip(rows, decisions, strict=True):
            result = row_result(raw.number, decision, run.dry_run)
            counts[result.status.value] += 1
            if report:
                report.add(result)
            if rejects and result.status in REJECTED:
                rejects.add(raw, result)
        run.total += len(rows)


@dataclass
class _Run:
    """One run of a batch file: its settings, and what it has reported so far."""

    digest: str
    today: dt.date
    dry_run: bool
    counts: Counter[str]
    report: ReportWriter | None
    rejects: RejectsWriter | None  # None for a dry run: it writes no rejects file
    seen_keys: set[str] = field(default_factory=set)  # dry runs only: a real run's store remembers
    total: int = 0
