"""Demo cases in every state, made with the real services, so a new user sees the whole loop.

:func:`seed_demo_station` fills an empty station: the bundled sample batch (受理, 容缺受理 and
不予受理 cases, accepted by ``demo``), then the counter's own transitions by the demo staff —
补正 (C001), 终止 approved by the supervisor S001, 即办件 finished at the counter (办结 准予 and
不予许可), 出证 (the station's signing key approved by S001, as a counter asks on the first issue)
and 领取, and a 撤回. Several accepted cases are left for the back office to
decide (``hall-server cases decide``), which the counter then pulls.

Every step goes through the services a clerk's keys use, so each one writes its audit event and
its outbox operation; nothing here writes SQL.
"""

from __future__ import annotations

import datetime as dt
import random
from importlib import resources
from pathlib import Path

from models.approval import ApprovalAct
from models.catalog import ServiceItem
from models.demo_staff import DEMO_STAFF
from models.enums import ApplicantType, CaseState, ItemKind, MaterialStatus, Tolerance
from models.problems import DomainError
from models.records import CaseFilter, CaseView
from window_client.services.acceptance import AcceptanceRequest, Applicant, Outcome
from window_client.services.batch import BatchRunner
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id, person_name, phone
from window_client.services.staff import SignInError, StaffMember
from window_client.services.state_machine import CaseEvent

SAMPLE_ACTOR = "demo"  # the sample batch, as `window-client sample` accepts it
CLERK, SUPERVISOR = "C001", "S001"
DEMO_SEED = 20261120
# 即办件 finished at the counter, one case each: where it ends.
INSTANT_FLOWS = ("approved", "certificate_issued", "delivered", "refused")


def demo_password(staff_no: str) -> str:
    """The published demo password of ``staff_no`` (README, ``hall-server demo-data``)."""
    for number, _name, _role, password in DEMO_STAFF:
        if number == staff_no:
            return password
    raise KeyError(staff_no)


def _copy_sample(home: Path) -> Path:
    target = home / "sample_batch.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((resources.files("window_client") / "data" / "sample_batch.csv").read_bytes())
    return target


def accept_sample_batch(runtime: Runtime, today: dt.date) -> None:
    """The bundled sample batch, accepted by ``demo`` (re-runs accept nothing twice)."""
    sample = _copy_sample(Path(runtime.settings.home))
    demo = Runtime(runtime.settings, actor=SAMPLE_ACTOR, _store=runtime.store)
    BatchRunner(demo.acceptance).run(sample, today)


def _instant_item(runtime: Runtime) -> ServiceItem | None:
    """A 即办件 for a person that results in a certificate, acceptable at this station."""
    acceptable = {e.code for e in runtime.catalog.acceptable_at(runtime.station)}
    for item in runtime.catalog.items.values():
        if item.code not in acceptable or item.kind is not ItemKind.INSTANT or not item.certificate_type:
            continue
        if any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials):
            continue  # an organisation's item; the demo applicants are people
        return item
    return None


def _accept_instant(clerk: Runtime, item: ServiceItem, rng: random.Random, today: dt.date) -> str | None:
    presented = {m.code: MaterialStatus.PRESENTED for m in item.materials}
    applicant = Applicant(ApplicantType.PERSON, person_id(rng), person_name(rng), phone(rng))
    request = AcceptanceRequest(item.code, applicant, presented, False, clerk.channel)
    decision = clerk.acceptance.accept(request, today)
    return decision.case_no if decision.outcome is Outcome.ACCEPTED else None


def _cases(runtime: Runtime, state: CaseState, today: dt.date) -> list[CaseView]:
    f = CaseFilter(state=state.value, station=runtime.station.code)
    return runtime.cases.list_cases(f, today, 100, order="id ASC")


def seed_demo_station(runtime: Runtime, today: dt.date) -> dict[str, int]:
    """Fill an empty station with cases in every state; returns the count per state.

    A station that already has cases is left as it is. A step the station cannot do (e.g. a
    park station that issues no certificates) is skipped: the demo shows what it can.
    """
    if runtime.cases.count(CaseFilter()) == 0:
        accept_sample_batch(runtime, today)
        settings, store = runtime.settings, runtime.store
        clerk = Runtime(settings, actor=CLERK, _store=store)
        supervisor = Runtime(settings, actor=SUPERVISOR, _store=store)
        for step in (_supplement_and_terminate, _withdraw, _finish_instant):
            try:
                step(clerk, supervisor, today)
            except DomainError:
                continue  # shown as a missing state, never as a failed start
    return runtime.cases.state_counts(runtime.station.code)


def _supplement_and_terminate(clerk: Runtime, supervisor: Runtime, today: dt.date) -> None:
    tolerated = _cases(clerk, CaseState.ACCEPTED_TOLERATED, today)
    if tolerated:
        case_no = tolerated[0].case_no
        missing = [
            m.code
            for m in clerk.cases.detail(case_no, today).materials
            if m.status == MaterialStatus.MISSING and m.supplement_due
        ]
        clerk.cases.supplement(case_no, missing, today)
    if len(tolerated) > 1:
        # The supervisor terminates on the spot (the applicant gave up the 补正), signing the
        # approval with the key the demo password stands for, as at the counter.
        case_no = tolerated[1].case_no
        member = supervisor.staff.verify_supervisor(SUPERVISOR, demo_password(SUPERVISOR))
        approval = member.approve(ApprovalAct.TERMINATE, case_no)
        supervisor.cases.terminate(case_no, today, "申请人放弃补正", approval=approval)


def _withdraw(clerk: Runtime, _supervisor: Runtime, today: dt.date) -> None:
    accepted = _cases(clerk, CaseState.ACCEPTED, today)
    promised = [c for c in accepted if c.item_code in clerk.catalog.items]
    promised = [c for c in promised if clerk.catalog.items[c.item_code].kind is ItemKind.PROMISED]
    if promised:
        clerk.cases.transition(promised[-1].case_no, CaseEvent.WITHDRAW, today, reason="申请人申请撤回")


def _key_approver(clerk: Runtime, supervisor: Runtime) -> StaffMember | None:
    """S001 re-authenticates to approve the station's first signing key (None: not needed)."""
    if not clerk.certificates.needs_key_approval():
        return None
    try:
        return supervisor.staff.verify_supervisor(SUPERVISOR, demo_password(SUPERVISOR))
    except SignInError:
        return None  # an account changed by hand: issuing is refused, the demo goes on


def _finish_instant(clerk: Runtime, supervisor: Runtime, today: dt.date) -> None:
    item = _instant_item(clerk)
    if item is None:
        return
    approver = _key_approver(clerk, supervisor)
    rng = random.Random(DEMO_SEED)
    for flow in INSTANT_FLOWS:
        case_no = _accept_instant(clerk, item, rng, today)
        if case_no is None:
            continue
        if flow == "refused":
            clerk.cases.transition(case_no, CaseEvent.REFUSE, today, at_counter=True, reason="不符合办理条件")
            continue
        clerk.cases.transition(case_no, CaseEvent.APPROVE, today, at_counter=True)
        if flow == "approved":
            continue  # waits at 统一出证 (F6) for the user to issue
        views = clerk.certificates.issue([case_no], today, approver=approver)
        if flow == "delivered":
            case = clerk.cases.get(case_no, today)
            holder = clerk.cases.reveal_id(case_no, "领取核验")
            clerk.certificates.handover(
                views[0].identifier, today, collector_id=holder, collector_name=case.applicant_name
            )
