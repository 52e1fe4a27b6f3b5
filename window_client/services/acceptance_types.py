"""What the acceptance service is asked and what it answers: the request, the applicant, the
decision and its outcome (:mod:`window_client.services.acceptance` decides and writes)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from models.catalog import Acceptable
from models.enums import ApplicantType, Channel, MaterialStatus
from models.identity import normalize_id
from models.identity_check import DEFAULT_CHECK, IdentityCheck
from models.problems import Problem
from models.records import NewCase
from window_client.services.tolerance import Verdict
from window_client.services.workdays import DueDate

if TYPE_CHECKING:
    from window_client.services.staff import StaffMember

FIELD_LIMIT = 200  # characters; longer values are refused, never truncated silently


class Outcome(StrEnum):
    """What happened to one acceptance request (the batch report's ``status``)."""

    ACCEPTED = "accepted"
    ACCEPTED_TOLERATED = "accepted_tolerated"
    NOT_ACCEPTED = "not_accepted"
    NEEDS_APPROVAL = "needs_approval"
    INVALID = "invalid"
    DUPLICATE = "duplicate"


WRITTEN = frozenset({Outcome.ACCEPTED, Outcome.ACCEPTED_TOLERATED, Outcome.NOT_ACCEPTED})


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant and, optionally, the agent (代办人) who came for them."""

    type: ApplicantType
    id: str
    name: str
    phone: str = ""
    agent_name: str = ""
    agent_id: str = ""


@dataclass(frozen=True)
class AcceptanceRequest:
    """Everything the window knows when it decides on a case.

    ``identity``: how the applicant's identity was checked (身份证原件 unless said otherwise);
    ``assisted``: 帮办代办, the station officer filled the forms in for the enterprise.
    """

    entry_code: str
    applicant: Applicant
    presented: Mapping[str, MaterialStatus]
    commitment: bool = False
    channel: Channel = Channel.WINDOW
    dedupe_key: str | None = None
    identity: IdentityCheck = DEFAULT_CHECK
    assisted: bool = False

    def content_hash(self) -> str:
        """Fingerprint of what was asked, to tell a re-run from a corrected row.

        The identity check is left out: it does not change what is decided, and rows written
        before it was recorded must keep their fingerprints."""
        a = self.applicant
        # StrEnum members are their values as str: no .value (an enum descriptor call each).
        materials = ",".join(sorted([f"{k}={v}" for k, v in self.presented.items()]))
        fields = (
            self.entry_code, a.type, normalize_id(a.id), a.name.strip(), a.phone,
            a.agent_name, a.agent_id, materials, "1" if self.commitment else "0",
        )  # fmt: skip
        return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()[:32]


@dataclass
class Decision:
    """The outcome for one request, and the case to write when there is one."""

    outcome: Outcome
    problems: list[Problem] = field(default_factory=list)
    entry: Acceptable | None = None
    verdict: Verdict | None = None
    case: NewCase | None = None
    due: DueDate | None = None
    supplement_due: DueDate | None = None
    duplicate_of: str | None = None
    # The supervisor who approves a tolerance beyond policy; signs when the number is known.
    approver: StaffMember | None = field(default=None, repr=False)

    @property
    def case_no(self) -> str | None:
        """The case number once written (or the existing case's, for a duplicate)."""
        if self.duplicate_of:
            return self.duplicate_of
        return self.case.case_no if self.case and self.case.case_no else None
