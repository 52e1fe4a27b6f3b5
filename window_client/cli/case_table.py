"""The ``cases list`` table at any terminal width: case numbers and dates are never cut.

Rich shrinks every column of a table that does not fit and ends a cut word with "…", which
turned ``GXZX-20261120-00001`` into ``GXZX-2026…``: a number nobody can look up. Here the case
number and the date keep their whole width (``no_wrap`` and ``min_width``); names and states
fold onto a second line instead of being cut; and when even that does not fit, whole columns
are left out, least needed first (the masked ID, then the item, then the applicant), with a
caption saying which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.table import Table

from models.enums import CaseState
from models.records import CaseView
from window_client.cli.common import shown
from window_client.cli.lang import say
from window_client.services.state_machine import STATE_ZH

FLAG_ZH = {"green": "绿", "yellow": "黄", "red": "红", None: ""}
DATE_WIDTH = 10  # YYYY-MM-DD
FOLDED_MIN = 6  # a folded column narrower than this reads as noise
BORDER = 3  # a column's padding (2) and its right border (1); the table adds one left border


@dataclass(frozen=True)
class _Column:
    header: str
    min_width: int  # whole values (never cut) or the narrowest a folded column may get
    whole: bool  # never wrapped nor cut
    drop_rank: int  # 0: always shown; higher ranks are left out first


def _due(case: CaseView) -> str:
    due = case.supplement_due if case.state == CaseState.ACCEPTED_TOLERATED else case.due_date
    return due.isoformat() if due else ""


def _cells(case: CaseView) -> tuple[str, ...]:
    return (
        shown(case.case_no),
        shown(case.item_name),
        shown(case.applicant_name),
        shown(case.applicant_id_masked),
        STATE_ZH[CaseState(case.state)],
        _due(case),
        FLAG_ZH[case.flag],
    )


def _columns(rows: Sequence[tuple[str, ...]]) -> list[_Column]:
    def widest(index: int, header: str) -> int:
        return max([cell_len(header), *(cell_len(r[index]) for r in rows)])

    return [
        _Column("办件编号", widest(0, "办件编号"), whole=True, drop_rank=0),
        _Column("事项", FOLDED_MIN, whole=False, drop_rank=2),
        _Column("申请人", FOLDED_MIN, whole=False, drop_rank=1),
        _Column("证件号码", widest(3, "证件号码"), whole=True, drop_rank=3),
        _Column("状态", min(widest(4, "状态"), FOLDED_MIN), whole=False, drop_rank=0),
        _Column("到期", max(DATE_WIDTH, cell_len("到期")), whole=True, drop_rank=0),
        _Column("标", widest(6, "标"), whole=True, drop_rank=0),
    ]


def _needed(columns: Sequence[_Column]) -> int:
    return 1 + sum(c.min_width + BORDER for c in columns)


def cases_table(cases: Sequence[CaseView], width: int) -> Table:
    """The cases as a table that fits ``width`` columns without cutting a number or a date."""
    rows = [_cells(c) for c in cases]
    columns = _columns(rows)
    shown_columns = list(columns)
    for rank in (3, 2, 1):  # leave out whole columns, least needed first, until the rest fit
        if _needed(shown_columns) <= width:
            break
        shown_columns = [c for c in shown_columns if c.drop_rank != rank]
    left_out = [c.header for c in columns if c not in shown_columns]
    table = Table(caption=say("cases.narrow", columns="、".join(left_out)) if left_out else None)
    for column in shown_columns:
        table.add_column(
            column.header,
            no_wrap=column.whole,
            min_width=column.min_width,
            overflow="fold",  # a long name wraps onto the next line instead of ending in "…"
        )
    keep = [columns.index(c) for c in shown_columns]
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table
