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
from window_client.cli.lang import say
from window_client.cli.sync_cmd import ServerOption, with_server
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
        _usage(f"the hall server at {rt.settings.server} refused the sign-in of {user}")
    except Unreachable as exc:
        _usage(exc.message)
    except HallError as exc:
        _usage(f"the hall server could not answer: {exc.message}")
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
        _usage("set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD to compare with the hall")
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
    hall = report.hall
    seen = "" if hall is None else f"; matches the {hall['anchors']} head(s) the hall kept"
    if report.ok:
        cases = f"{report.cases_checked} cases match their events"
        out.print(f"audit trail intact: {report.events} events, {cases}{seen}")
        return
    out.print(f"audit trail BROKEN ({report.events} good events, {report.cases_checked} cases checked):")
    for problem in report.problems:
        out.print(f"  {problem.kind}: {shown(problem.message)}")
    for drift in report.cases[:SHOWN_CASES]:
        out.print(
            shown(f"  case {drift.case_no}: stored {drift.stored or '-'}, audited {drift.audited or '-'}")
        )
    if len(report.cases) > SHOWN_CASES:
        out.print(f"  ... and {len(report.cases) - SHOWN_CASES} more case(s) (see --json)")
