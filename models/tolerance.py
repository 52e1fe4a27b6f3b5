"""The tolerance check (容缺预审): a pure function of the item or package, the presented
materials, the applicant's standing and the window's policy.

Rules (published 容缺受理 practice, DESIGN.md §3):
- only non-core materials may be missing; a missing core material means 不予受理 with a
  one-time notice (一次性告知) listing everything missing;
- the 补正 deadline of each missing material never exceeds the item's 承诺时限, so an instant
  item (承诺时限 0) is never tolerated;
- an applicant with a 失信 record is not offered tolerance;
- an applicant with an unfulfilled earlier commitment (一处失信，处处受限) needs a supervisor —
  or is refused, where the policy says so;
- more missing materials than the item allows needs a supervisor;
- tolerance always needs the applicant's signed commitment (承诺书).

The counter runs it as the checklist is ticked; the hall runs it again on every pushed
``case.accept`` (:mod:`models.acceptance`), so both judge a case by one function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from models.catalog import Acceptable, MaterialRequirement
from models.enums import MaterialStatus, Tolerance, VerdictKind
from models.problems import Problem
from models.timelimits import TimeLimit


@dataclass(frozen=True, slots=True)
class ApplicantStanding:
    """What is known of the applicant's record."""

    dishonest: bool = False  # on a 失信 list
    unfulfilled_commitments: int = 0  # earlier tolerance commitments broken (overdue/terminated)


@dataclass(frozen=True, slots=True)
class TolerancePolicy:
    """The window's tolerance policy."""

    enabled: bool = True
    # "supervisor": an unfulfilled earlier commitment needs a supervisor's approval;
    # "refuse": such an applicant is not offered tolerance at all.
    on_unfulfilled: str = "supervisor"
    warning_workdays: int = 1  # yellow when due within this many working days


CLEAN_STANDING = ApplicantStanding()
DEFAULT_POLICY = TolerancePolicy()


@dataclass(frozen=True, slots=True)
class MissingMaterial:
    """A material the applicant has not presented, with its 补正 deadline when tolerable."""

    code: str
    name: str
    tolerance: Tolerance
    supplement: TimeLimit | None


@dataclass(frozen=True)
class Verdict:
    """The result of the tolerance check."""

    kind: VerdictKind
    missing: tuple[MissingMaterial, ...] = ()
    reasons: tuple[Problem, ...] = ()
    needs_supervisor: bool = False
    checklist: tuple[tuple[MaterialRequirement, MaterialStatus], ...] = field(default=(), repr=False)

    @property
    def needs_commitment(self) -> bool:
        """Tolerance is only granted against the applicant's signed commitment."""
        return self.kind is VerdictKind.TOLERABLE

    @property
    def missing_tolerable(self) -> tuple[MissingMaterial, ...]:
        """Missing materials that the commitment covers."""
        return tuple(m for m in self.missing if m.tolerance is Tolerance.TOLERABLE)


def assess(
    entry: Acceptable,
    presented: Mapping[str, MaterialStatus],
    standing: ApplicantStanding = CLEAN_STANDING,
    policy: TolerancePolicy = DEFAULT_POLICY,
) -> Verdict:
    """Check the presented materials of ``entry`` (item or package) against the rules.

    ``presented`` maps material codes to their status; a code that is absent counts as missing.
    A material marked as satisfied by 电子证照 counts only if the material has an e-licence.
    """
    checklist = []
    missing: list[MissingMaterial] = []
    for req in entry.materials:
        status = presented.get(req.code, MaterialStatus.MISSING)
        if status is MaterialStatus.E_LICENSE and req.e_license is None:
            status = MaterialStatus.MISSING
        checklist.append((req, status))
        if status is MaterialStatus.MISSING and req.tolerance is not Tolerance.OPTIONAL:
            supplement = req.supplement.capped(entry.promised) if req.supplement else None
            missing.append(MissingMaterial(req.code, req.name, req.tolerance, supplement))
    found = tuple(missing)
    listed = tuple(checklist)
    core = [m for m in missing if m.tolerance is Tolerance.CORE]
    if core:
        names = "、".join(m.name for m in core)
        return Verdict(
            VerdictKind.NOT_ACCEPTABLE,
            found,
            (Problem("verdict.core_missing", {"names": names}),),
            checklist=listed,
        )
    if not missing:
        return Verdict(VerdictKind.COMPLETE, checklist=listed)
    refusals: list[Problem] = []
    if not policy.enabled:
        refusals.append(Problem("verdict.tolerance_disabled"))
    if entry.promised.days == 0 or any(m.supplement is None or m.supplement.days == 0 for m in missing):
        refusals.append(Problem("verdict.no_time"))
    if standing.dishonest:
        refusals.append(Problem("verdict.dishonest"))
    if standing.unfulfilled_commitments and policy.on_unfulfilled == "refuse":
        refusals.append(Problem("verdict.unfulfilled"))
    if refusals:
        return Verdict(VerdictKind.NOT_ACCEPTABLE, found, tuple(refusals), checklist=listed)
    approvals: list[Problem] = []
    if standing.unfulfilled_commitments:
        approvals.append(Problem("verdict.unfulfilled"))
    if len(missing) > entry.max_tolerable_missing:
        approvals.append(
            Problem(
                "verdict.too_many_missing",
                {"count": len(missing), "limit": entry.max_tolerable_missing},
            )
        )
    return Verdict(
        VerdictKind.TOLERABLE,
        found,
        tuple(approvals),
        needs_supervisor=bool(approvals),
        checklist=listed,
    )
