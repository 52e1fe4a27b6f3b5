"""Each case's state recomputed from its audited events, against the state the store holds.

Every change of a case's state is one transaction that writes the state and its audit event, so
the trail alone says where each case must be: ``case.<state>`` when it was accepted (受理,
容缺受理 or 不予受理), ``case.<event>`` for a step of :data:`models.state_machine.TRANSITIONS`,
and ``sync.case_state`` (with ``detail.to``) when the hall's state was adopted. A state written
straight into ``cases`` (or a case inserted or deleted there) without its event shows up as a
difference.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection

from models.enums import CaseState
from models.state_machine import TRANSITIONS, CaseEvent
from offline_cache.audit import AuditProblem, verify_chain

ACCEPT_STATES = frozenset({CaseState.ACCEPTED, CaseState.ACCEPTED_TOLERATED, CaseState.NOT_ACCEPTED})
EVENTS = frozenset(event.value for event in CaseEvent)
ADOPTED = "sync.case_state"
EXAMPLES = 3  # case numbers quoted in a problem's message


@dataclass(frozen=True, slots=True)
class CaseDrift:
    """A case whose stored state is not the one its audited events lead to.

    Attributes:
        case_no: the case.
        stored: its state in ``cases`` (None: the row is gone).
        audited: the state its events lead to (None: it has no events).
    """

    case_no: str
    stored: str | None
    audited: str | None


def audited_states(conn: Connection) -> tuple[dict[str, str], list[AuditProblem]]:
    """Every case's state according to its events, and the events that break the state machine."""
    states: dict[str, str] = {}
    problems: list[AuditProblem] = []
    rows = conn.exec_driver_sql(
        "SELECT seq, action, subject, detail FROM audit_events"
        " WHERE action LIKE 'case.%' OR action = ? ORDER BY seq",
        (ADOPTED,),
    )
    for seq, action, subject, detail in rows:
        if action == ADOPTED:
            target = _adopted_state(detail)
            if target is not None:
                states[subject] = target
            continue
        name = action.removeprefix("case.")
        if name in ACCEPT_STATES:
            states[subject] = name
        elif name in EVENTS:
            before = states.get(subject)
            after = TRANSITIONS.get((CaseState(before), CaseEvent(name))) if before else None
            if after is None:
                problems.append(
                    AuditProblem(
                        seq, "case_event", f"event {seq}: {name} of {subject} from {before or 'nothing'}"
                    )
                )
                continue
            states[subject] = after.value
    return states, problems


def _adopted_state(detail: str) -> str | None:
    try:
        target = json.loads(detail).get("to")
    except (ValueError, AttributeError):
        return None
    return target if target in {s.value for s in CaseState} else None


def check_cases(conn: Connection) -> tuple[int, list[CaseDrift], list[AuditProblem]]:
    """(cases checked, the cases that differ, one problem per kind of difference)."""
    audited, problems = audited_states(conn)
    stored: dict[str, str] = {
        str(r[0]): str(r[1]) for r in conn.exec_driver_sql("SELECT case_no, state FROM cases")
    }
    drift = [
        CaseDrift(case_no, stored.get(case_no), audited.get(case_no))
        for case_no in sorted(stored.keys() | audited.keys())
        if stored.get(case_no) != audited.get(case_no)
    ]
    groups: dict[str, list[str]] = defaultdict(list)
    for d in drift:
        kind = "unaudited_case" if d.audited is None else "case_missing" if d.stored is None else "case_state"
        groups[kind].append(d.case_no)
    what = {
        "unaudited_case": "case(s) have no audited events",
        "case_missing": "audited case(s) are missing from the cases table",
        "case_state": "case(s) hold a state their audited events do not lead to",
    }
    for kind, case_nos in groups.items():
        examples = ", ".join(case_nos[:EXAMPLES]) + (", ..." if len(case_nos) > EXAMPLES else "")
        problems.append(AuditProblem(0, kind, f"{len(case_nos)} {what[kind]}: {examples}"))
    return len(stored), drift, problems


@dataclass
class AuditReport:
    """What ``window-client audit verify`` found.

    Attributes:
        events: events of the chain that verified before the first chain problem.
        cases_checked: cases in the store whose state was recomputed.
        problems: every problem, the chain's first.
        cases: the cases whose state differs from their events.
        hall: what the hall saw, when it was asked (``--against-hall``).
    """

    events: int
    cases_checked: int
    problems: list[AuditProblem]
    cases: list[CaseDrift]
    hall: dict[str, object] | None = None

    @property
    def ok(self) -> bool:
        """Nothing was found."""
        return not self.problems

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form (``ok``, ``events`` and ``problem`` as before, then the rest)."""
        first = self.problems[0] if self.problems else None
        return {
            "ok": self.ok,
            "events": self.events,
            "problem": None if first is None else _problem_json(first),
            "problems": [_problem_json(p) for p in self.problems],
            "cases_checked": self.cases_checked,
            "cases": [{"case_no": d.case_no, "stored": d.stored, "audited": d.audited} for d in self.cases],
            "hall": self.hall,
        }


def _problem_json(problem: AuditProblem) -> dict[str, object]:
    return {"seq": problem.seq, "kind": problem.kind, "message": problem.message}


def local_report(conn: Connection) -> AuditReport:
    """The chain, then every case's state against its events."""
    events, chain_problem = verify_chain(conn)
    cases_checked, drift, problems = check_cases(conn)
    if chain_problem is not None:
        problems.insert(0, chain_problem)
    return AuditReport(events, cases_checked, problems, drift)
