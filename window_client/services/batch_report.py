"""What a batch run reports: one result per row (the JSON report of DESIGN.md §6, streamed) and
the rejected rows with their reasons, as CSV beside the input, ready to fix and run again."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from models.problems import Language, Problem
from window_client.services.acceptance import FIELD_LIMIT, Decision, Outcome
from window_client.services.batch_files import ALL_COLUMNS, RawRow, neutralise

REJECTED = frozenset({Outcome.INVALID, Outcome.NEEDS_APPROVAL, Outcome.NOT_ACCEPTED})


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


def row_result(number: int, decision: Decision, dry_run: bool) -> RowResult:
    """The report line of one decided row (a dry run names no case number it would create)."""
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


class ReportWriter:
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


class RejectsWriter:
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
