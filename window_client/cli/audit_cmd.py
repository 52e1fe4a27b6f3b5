"""``window-client audit verify [--against-hall]``: is the audit trail whole, and is it the one the
hall saw?

Without ``--against-hall`` the store checks itself: the hash chain (altered or missing events,
gaps, a missing head, a chain shorter than the hall last acknowledged) and every case's state
against the state its audited events lead to. What it cannot see alone — a trail rewritten and
recomputed, or a whole store rolled back consistently — needs the hall: ``--against-hall`` signs
in (``WINDOW_CLIENT_USER`` / ``WINDOW_CLIENT_PASSWORD``) and compares the store with every audit
head the hall kept from this station's pushes.

Exit 0 when nothing was found, 1 when something was, 2 for bad usage or an unreachable hall.
``--json`` prints ``{"ok", "events", "problem", "problems", "cases_checked", "cases", "hall"}``.
"""

from __future__ import annotations

import os
from typing import Annotated, NoReturn

import typer

from offline_cache.audit_cases import AuditReport
from window_client.cli.common import EXIT_FAILED, EXIT_USAGE, err, out, print_json, runtime, shown
from window_client.cli.lang import current, say
from window_client.cli.sync_cmd import ServerOption, with_server
from window_client.cli.texts import AUDIT_KIND_ZH
from window_client.hall_client import HallError, Unreachable
from window_client.services.audit_trail import compare_with_hall
from window_client.services.runtime import Runtime
from window_client.services.staff import SignInError

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
SHOWN_CASES = 20


def _against_hall(rt: Runtime, report: AuditReport, user: str, password: str) -> AuditReport:
    """``report`` with the hall's heads; exit 2 when the hall cannot be asked."""
    service = rt.sync
    try:
        service.sign_in_online(user, password)
        trail = service.client.audit_trail()
    except SignInError:
        _usage(say("audit.sign_in_refused", server=rt.settings.server, user=user))
    except Unreachable as exc:
        _usage(say("audit.unreachable", message=exc.message))
    except HallError as exc:
        _usage(say("audit.hall_failed", message=exc.message))
    return compare_with_hall(rt.store, report, trail, rt.settings.server)


def _usage(message: str) -> NoReturn:
    err.print(f"[red]{say('error')}[/]{shown(message)}", soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


@audit_app.command("verify")
def verify(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    against_hall: Annotated[
        bool,
        typer.Option(
            "--against-hall",
            help="Also compare with the audit heads the hall kept (signs in as WINDOW_CLIENT_USER).",
        ),
    ] = False,
    server: ServerOption = None,
) -> None:
    """Check the audit trail: the hash chain, each case's state against its events, and with
    --against-hall what the hall saw. Exit 1 when something is wrong, 2 when the hall cannot be
    asked."""
    user = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if against_hall and (not user or not password):
        _usage(say("audit.credentials"))
    with runtime() as rt:
        report = rt.store.audit_report()
        if against_hall:
            with_server(rt, server)
            report = _against_hall(rt, report, user, password)
    if json_output:
        print_json(report.to_json())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _print(report: AuditReport) -> None:
    """The report in the chosen language; each problem's detail is the JSON report's message."""
    hall = report.hall
    seen = "" if hall is None else say("audit.hall_seen", anchors=hall["anchors"])
    if report.ok:
        out.print(say("audit.intact", events=report.events, cases=report.cases_checked, seen=seen))
        return
    out.print(say("audit.broken", events=report.events, cases=report.cases_checked))
    chinese = current() == "zh"
    for problem in report.problems:
        label = AUDIT_KIND_ZH.get(problem.kind, problem.kind) if chinese else problem.kind
        out.print(shown(say("audit.problem", label=label, kind=problem.kind, message=problem.message)))
    for drift in report.cases[:SHOWN_CASES]:
        line = say(
            "audit.drift", case_no=drift.case_no, stored=drift.stored or "-", audited=drift.audited or "-"
        )
        out.print(shown(line))
    if len(report.cases) > SHOWN_CASES:
        out.print(say("audit.more", count=len(report.cases) - SHOWN_CASES))
