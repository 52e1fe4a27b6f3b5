"""Committing the acceptance form: decide with the service's rules, ask for what is missing
(the applicant's 承诺书, a supervisor's approval), write the case, and show its documents."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from models.enums import CaseState, ItemKind, VerdictKind
from screens.accept_text import TEXT
from screens.dialogs import ConfirmDialog, DocumentDialog, ErrorDialog, SupervisorDialog
from window_client.services.acceptance import AcceptanceRequest, Decision, Outcome
from window_client.services.documents import documents_for
from window_client.services.staff import StaffMember
from window_client.services.state_machine import CaseEvent

if TYPE_CHECKING:
    from screens.accept import AcceptScreen


async def commit_request(form: AcceptScreen, request: AcceptanceRequest) -> None:
    """Validate, get the 承诺书 signed and a supervisor's approval where the verdict needs them,
    write the case, then show its documents (the form is reset after them)."""
    services = form.app_.services
    today = form.app_.today()
    _, problems = services.acceptance.validate(request)
    if problems:
        lines = "\n".join("· " + p.zh() for p in problems)
        form.app.push_screen(ErrorDialog(TEXT["problems"].format(lines=lines)))
        return
    verdict = form.verdict
    if verdict is not None and verdict.kind is VerdictKind.TOLERABLE and not request.commitment:
        lines = "\n".join(
            f"  · {m.name}：{m.supplement.zh() if m.supplement else ''}内补正"
            for m in verdict.missing_tolerable
        )
        assert form.entry is not None
        signed = await form.app.push_screen_wait(
            ConfirmDialog(TEXT["commitment_text"].format(item=form.entry.name, lines=lines))
        )
        form.commitment = bool(signed)
        request = replace(request, commitment=form.commitment)
        form.refresh_verdict()
    decision = services.acceptance.decide(request, today, form.standing)
    approver: StaffMember | None = None
    if decision.outcome is Outcome.NEEDS_APPROVAL:
        reasons = [p.zh() for p in decision.problems]
        approver = await form.app.push_screen_wait(SupervisorDialog(services.staff, reasons))
        if approver is None:
            return
        # The supervisor signs the approval once the case has its number (at the commit).
        decision = services.acceptance.decide(request, today, form.standing, approver=approver)
    services.acceptance.commit([decision], today)
    await show_documents(form, decision)


async def show_documents(form: AcceptScreen, decision: Decision) -> None:
    """The case's documents (回执, 通知书, 身份核验单 …) to print or save; 当场办结 for a 即办件."""
    services = form.app_.services
    today = form.app_.today()
    case_no = decision.case_no
    if case_no is None:
        form.app.push_screen(ErrorDialog("\n".join(p.zh() for p in decision.problems)))
        return
    detail = services.cases.detail(case_no, today)
    code = services.ratings.code_for(detail.case.case_no)
    docs = documents_for(detail.case, detail.materials, services.station.name, code, detail.identity)
    instant = decision.entry is not None and decision.entry.kind is ItemKind.INSTANT
    can_finish = instant and detail.case.state == CaseState.ACCEPTED
    choice = await form.app.push_screen_wait(
        DocumentDialog(docs, services.settings.home / "documents", can_finish)
    )
    if choice == "finish":
        services.cases.transition(case_no, CaseEvent.APPROVE, today, at_counter=True)
        form.app.notify(TEXT["finished"].format(case_no=case_no))
    form.action_reset()
