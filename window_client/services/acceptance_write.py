"""What the acceptance service writes besides the case rows: the dedupe split of a batch, the
``case.accept`` outbox body, and each case's identity check (身份核验, 帮办代办)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.enums import CaseState
from models.identity_check import IdentityMethod, payload_fields, slip_number
from models.records import NewCase
from offline_cache import UnitOfWork, identity_repo
from offline_cache import repositories as repo
from window_client.services.acceptance_types import Decision, Outcome


def apply_dedupe(
    pending: Sequence[Decision], existing: Mapping[str, repo.DedupeHit], seen: set[str]
) -> tuple[list[Decision], list[tuple[str, str]]]:
    """Split decisions into those to write and duplicates (mutated in place).

    A key already used by an accepted case, or seen earlier in the same run, is a duplicate. A
    key held by a 不予受理 case is released when the new row differs (a corrected resubmission)
    and is a duplicate when it is the same. Returns the decisions to write and the
    (case_no, key) pairs whose keys must be released.
    """
    to_write: list[Decision] = []
    superseded: list[tuple[str, str]] = []
    for decision in pending:
        case = decision.case
        assert case is not None
        key = case.dedupe_key
        if key is not None:
            hit = existing.get(key)
            if key in seen or (
                hit is not None
                and (hit.state != CaseState.NOT_ACCEPTED or hit.content_hash == case.content_hash)
            ):
                decision.outcome = Outcome.DUPLICATE
                decision.duplicate_of = hit.case_no if hit else None
                decision.problems = []
                decision.case = None
                continue
            if hit is not None:
                superseded.append((hit.case_no, key))
            seen.add(key)
        to_write.append(decision)
    return to_write, superseded


def accept_payload(case: NewCase) -> dict[str, object]:
    """The outbox body of a new case: everything the hall needs to record it. The identity
    check's fields follow the ones every counter has always written (models.sync.payloads)."""
    return {
        "case_no": case.case_no,
        "station": case.station,
        "window": case.window,
        "clerk": case.clerk,
        "channel": case.channel,
        "item_code": case.item_code,
        "applicant_type": case.applicant_type,
        "applicant_id": case.applicant_id,
        "applicant_name": case.applicant_name,
        "agent_id": case.agent_id,
        "state": case.state,
        "verdict": case.verdict,
        "approved_by": case.approved_by,
        "accepted_on": case.accepted_on.isoformat(),
        "due_date": case.due_date.isoformat() if case.due_date else None,
        "supplement_due": case.supplement_due.isoformat() if case.supplement_due else None,
        "materials": [[m.code, m.status] for m in case.materials],
        **payload_fields(case.identity, case.case_no, case.assisted),
    }


def write_identities(unit: UnitOfWork, cases: Sequence[NewCase]) -> None:
    """Record each new case's identity check; a face check gets its 身份核验单 number."""
    identity_repo.insert_identities(
        unit,
        [
            (
                c.case_no,
                c.identity.method.value,
                slip_number(c.case_no) if c.identity.method is IdentityMethod.FACE else None,
                c.identity.power_of_attorney,
                c.assisted,
            )
            for c in cases
        ],
    )
