"""补正: what receiving materials for a tolerated case leads to — a pure function of the case's
outstanding materials, what arrived, the day and whether the materials conform.

Rules (容缺受理, DESIGN.md §3):
- a material received after its deadline, or any outstanding material already overdue, ends the
  case (终止, ``supplement.late``, the earliest deadline named): the commitment is broken;
- materials judged non-conforming end it too (``supplement.nonconforming``; a supervisor's call);
- when the last outstanding material arrives the case is 补齐 (the clock resumes);
- when only some arrive they are recorded and the ledger watches the next deadline
  (``supplement.incomplete`` names what is still missing);
- otherwise (nothing outstanding arrived, or the case is not tolerated) there is nothing to
  record, and the state machine decides whether 补正 applies at all.

:class:`~window_client.services.cases.CaseService` applies the outcome to the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.problems import Problem


class SupplementStep(StrEnum):
    """What the case does."""

    TERMINATE = "terminate"
    COMPLETE = "complete"  # 补齐
    PARTIAL = "partial"  # 部分补正
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Outstanding:
    """A tolerated material not yet received, with its 补正 deadline."""

    code: str
    name: str
    due: dt.date


@dataclass(frozen=True, slots=True)
class SupplementOutcome:
    """The result of :func:`supplement_outcome`.

    Attributes:
        step: what the case does.
        problem: why it ends, or what is still missing (None for 补齐 and for nothing).
        received: codes of the outstanding materials that arrived, in the case's order.
        left: the outstanding materials still missing.
        next_due: the deadline the ledger watches after a partial 补正.
    """

    step: SupplementStep
    problem: Problem | None
    received: tuple[str, ...]
    left: tuple[Outstanding, ...]
    next_due: dt.date | None = None


def supplement_outcome(
    tolerated: bool,
    outstanding: Sequence[Outstanding],
    received: Collection[str],
    day: dt.date,
    conforming: bool = True,
) -> SupplementOutcome:
    """What receiving ``received`` on ``day`` does to a case (``tolerated``: it is 容缺受理 and
    waiting for ``outstanding``). Codes that are not outstanding are ignored."""
    arrived = tuple(m.code for m in outstanding if m.code in received)
    left = tuple(m for m in outstanding if m.code not in received)
    if tolerated:
        problem = _ending(outstanding, received, day, conforming)
        if problem is not None:
            return SupplementOutcome(SupplementStep.TERMINATE, problem, arrived, left)
        if not left:
            return SupplementOutcome(SupplementStep.COMPLETE, None, arrived, left)
        if arrived:
            missing = Problem("supplement.incomplete", {"names": "、".join(m.name for m in left)})
            next_due = min(m.due for m in left)
            return SupplementOutcome(SupplementStep.PARTIAL, missing, arrived, left, next_due)
    return SupplementOutcome(SupplementStep.NOTHING, None, arrived, left)


def _ending(
    outstanding: Sequence[Outstanding], received: Collection[str], day: dt.date, conforming: bool
) -> Problem | None:
    """Why a tolerated case ends now: late (a received material, else any), or non-conforming."""
    overdue = [m for m in outstanding if day > m.due]
    late = [m for m in overdue if m.code in received]
    if late or overdue:
        first = min(m.due for m in (late or overdue))
        return Problem("supplement.late", {"due": first.isoformat()})
    if not conforming:
        return Problem("supplement.nonconforming")
    return None
