"""Batch acceptance from CSV (UTF-8, UTF-8 with BOM, GBK), XLSX and JSON lines.

Rows stream through in chunks: each chunk is decided with the same rules as the counter and
committed in one transaction, so memory stays flat however long the file is, a crash loses at
most the chunk in flight (and nothing that was reported accepted), and a re-run finds the
committed rows by their dedupe key: ``external_ref`` when the file has it, otherwise the
file's SHA-256 and the row number (the same file re-run accepts nothing twice).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from models.enums import ApplicantType, Channel, MaterialStatus
from models.identity import normalize_id
from models.identity_check import DEFAULT_CHECK, IdentityCheck, IdentityMethod, parse_method
from models.problems import Language, Problem
from window_client.services.acceptance import (
    FIELD_LIMIT,
    AcceptanceRequest,
    AcceptanceService,
    Applicant,
    Decision,
    Outcome,
)
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
    neutralise,
    read_rows,
    unquote,
)
from window_client.services.tolerance import ApplicantStanding

__all__ = [  # the reading side lives in batch_files; these names are imported from here too
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

REJECTED = frozenset({Outcome.INVALID, Outcome.NEEDS_APPROVAL, Outcome.NOT_ACCEPTED})
CHUNK = 1000


@dataclass
class RowResult:
    """One line of the report (DESIGN.md §6); ``problems`` are its ``errors``, written in the
    language the run was asked for, with their stable ``codes`` beside them."""

    row: int
    status: Outcome
    case_no: str | None = None
    due_date: str | None = None
    missing: list[str] = field(default_factory=list)
    supplement_due: str | None = None
    provisional_dates: bool = False
    problems: list[Problem] = field(default_factory=list)

    def errors(self, language: Language) -> list[str]:
        """The reasons, as people read them."""
        return [p.text(language) for p in self.problems]

    def to_json(self, language: Language = "en") -> dict[str, Any]:
        """The report's JSON object for this row (``codes`` extends the §6 contract)."""
        return {
            "row": self.row,
            "status": self.status.value,
            "case_no": self.case_no,
            "due_date": self.due_date,
            "missing": self.missing,
            "supplement_due": self.supplement_due,
            "provisional_dates": self.provisional_dates,
            "errors": self.errors(language),
            "codes": [p.code for p in self.problems],
        }


@dataclass
class BatchSummary:
    """Counts per status, and where the report and the rejects went."""

    counts: Counter[str]
    rows: int
    rejects_path: Path | None
    report_path: Path | None
    dry_run: bool

    @property
    def rejected(self) -> int:
        """Rows not accepted: invalid, needing approval, or 不予受理."""
        return sum(self.counts[s.value] for s in REJECTED)


def _fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 of the file and its number of line breaks (for the progress total)."""
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


# ------------------------------------------------------------------ parsing rows

_APPLICANT_TYPES = {t.value: t for t in ApplicantType}  # a lookup, not ApplicantType(text)
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否", ""}
_CHECKS = {method: IdentityCheck(method) for method in IdentityMethod}  # one shared value each


def parse_row(raw: RawRow, file_digest: str) -> tuple[AcceptanceRequest | None, list[Problem]]:
    """Turn the text of a row into a request; field-level problems are collected, not raised."""
    if raw.error:
        return None, [raw.error]
    values = raw.values
    v = {k: values.get(k) or "" for k in ALL_COLUMNS}
    for k, text in v.items():
        if text[:1] == "'":  # only such a value can carry the rejects file's protecting quote
            v[k] = unquote(text)
    problems: list[Problem] = []
    for name in ("item_code", "applicant_type", "applicant_id", "applicant_name"):
        if not v[name].strip():
            problems.append(Problem("field.required", {"field": name}))
    for name in ("item_code", "applicant_type", "commitment", "external_ref", "identity", "materials"):
        if len(v[name]) > FIELD_LIMIT * (10 if name == "materials" else 1):
            problems.append(Problem("field.too_long", {"field": name, "limit": FIELD_LIMIT}))
            v[name] = ""
    type_text = v["applicant_type"].strip().lower()
    applicant_type = _APPLICANT_TYPES.get(type_text)
    if applicant_type is None:
        if type_text:
            problems.append(Problem("field.invalid", {"field": "applicant_type", "value": type_text[:40]}))
        applicant_type = ApplicantType.PERSON
    commitment_text = v["commitment"].strip().lower()
    if commitment_text not in _YES | _NO:
        problems.append(Problem("field.invalid", {"field": "commitment", "value": commitment_text[:40]}))
    method = parse_method(v["identity"])
    if method is None:
        problems.append(Problem("identity.method_unknown", {"value": v["identity"].strip()[:40]}))
    codes = [c.strip() for c in v["materials"].replace("；", ";").split(";") if c.strip()]
    ref = v["external_ref"].strip()
    key = f"ref:{ref}" if ref else f"file:{file_digest[:24]}:{raw.number}"
    if problems and any(p.code == "field.required" and p.params["field"] == "item_code" for p in problems):
        return None, problems
    request = AcceptanceRequest(
        entry_code=v["item_code"].strip(),
        applicant=Applicant(
            type=applicant_type,
            id=v["applicant_id"],
            name=v["applicant_name"],
            phone=v["phone"].strip(),
        ),
        presented=dict.fromkeys(codes, MaterialStatus.PRESENTED),
        commitment=commitment_text in _YES,
        channel=Channel.BATCH,
        dedupe_key=key,
        identity=_CHECKS[method] if method else DEFAULT_CHECK,
    )
    return request, problems


# ------------------------------------------------------------------ running


def _result(number: int, decision: Decision, dry_run: bool) -> RowResult:
    verdict = decision.verdict
    missing = [m.code for m in verdict.missing] if verdict else []
    provisional = bool(
        (decision.due and decision.due.provisional)
        or (decision.supplement_due and decision.supplement_due.provisional)
    )
    show_dates = decision.outcome in (Outcome.ACCEPTED, Outcome.ACCEPTED_TOLERATED)
    return RowResult(
        row=number,
        status=decision.outcome,
        case_no=None if dry_run and decision.outcome is not Outcome.DUPLICATE else decision.case_no,
        due_date=decision.due.date.isoformat() if show_dates and decision.due else None,
        missing=missing if decision.outcome is not Outcome.DUPLICATE else [],
        supplement_due=(
            decision.supplement_due.date.isoformat() if show_dates and decision.supplement_due else None
        ),
        provisional_dates=provisional and show_dates,
        problems=list(decision.problems) if decision.outcome is not Outcome.ACCEPTED else [],
    )


class _ReportWriter:
    """Streams the JSON report so a 500,000-row file never holds its report in memory."""

    def __init__(self, path: Path, language: Language) -> None:
        self.path = path
        self.language = language
        self.tmp = path.with_name(path.name + ".partial")
        self.fh: IO[str] = self.tmp.open("w", encoding="utf-8")
        self.fh.write('{"rows": [')
        self.first = True

    def add(self, result: RowResult) -> None:
        line = json.dumps(result.to_json(self.language), ensure_ascii=False)
        self.fh.write(("\n" if self.first else ",\n") + line)
        self.first = False

    def close(self, counts: Counter[str]) -> None:
        summary = {s.value: counts.get(s.value, 0) for s in Outcome}
        self.fh.write('\n], "summary": ' + json.dumps(summary) + "}\n")
        self.fh.close()
        self.tmp.replace(self.path)  # a reader never sees half a report


class _RejectsWriter:
    """Rejected rows with their reasons, as CSV next to the input, ready to fix and re-run."""

    def __init__(self, path: Path, language: Language) -> None:
        self.path = path
        self.language = language
        self.fh = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(["row", "status", *ALL_COLUMNS, "errors"])

    def add(self, raw: RawRow, result: RowResult) -> None:
        # Every cell is neutralised: a rejected value (or a reason quoting one) that starts like
        # a formula must not run when the clerk opens the file in a spreadsheet.
        values = [_printable(raw.values.get(c, "")) for c in ALL_COLUMNS]
        cells = [*values, " | ".join(result.errors(self.language))]
        self.writer.writerow([raw.number, result.status.value, *(neutralise(c) for c in cells)])

    def close(self) -> None:
        self.fh.close()


def _printable(text: str) -> str:
    """Keep a rejected value recognisable without carrying control bytes into the file."""
    if len(text) > FIELD_LIMIT:
        text = text[:FIELD_LIMIT] + f"…(+{len(text) - FIELD_LIMIT} characters)"
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def rejects_path_for(path: Path) -> Path:
    """Where the rejects of ``path`` are written: ``<whole name>.rejects.csv`` beside it, so
    ``b.csv``, ``b.jsonl`` and ``b.xlsx`` each keep their own (``b.csv.rejects.csv`` …), and
    a rejects file run again never overwrites itself."""
    return path.with_name(path.name + ".rejects.csv")


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
        report = _ReportWriter(report_path, self.language) if report_path else None
        rejects_file = None if dry_run else rejects_path_for(path)
        rejects = _RejectsWriter(rejects_file, self.language) if rejects_file else None
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
            result = _result(raw.number, decision, run.dry_run)
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
    report: _ReportWriter | None
    rejects: _RejectsWriter | None  # None for a dry run: it writes no rejects file
    seen_keys: set[str] = field(default_factory=set)  # dry runs only: a real run's store remembers
    total: int = 0
