"""``window-client sync``: push and pull without a terminal, the sync status, refused operations.

``window-client sync [--server URL] [--json]`` is a public contract (DESIGN.md §6): one full
push and pull, staff credentials from ``WINDOW_CLIENT_USER`` / ``WINDOW_CLIENT_PASSWORD``,
``--json`` prints exactly ``{"pushed", "duplicates", "refused", "pulled", "pending"}``. Exit 0
when the sync completed and nothing was refused; 1 when operations were refused, the hall
rejected the station's audit head (an audit alarm, on stderr), or the server could not be reached
(or refused to go on); 2 for bad usage (no credentials, a bad URL).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from window_client.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, err, out, print_json, runtime, shown
from window_client.cli.lang import current, labels, problem_text, say
from window_client.hall_client import (
    AuthRequired,
    BadServerURL,
    HallError,
    ServerError,
    Unreachable,
    check_server_url,
)
from window_client.services.runtime import Runtime
from window_client.services.staff import SignInError
from window_client.services.sync import SyncReport, SyncService, describe_error

app = typer.Typer(
    help=(
        "Sync with the hall server. Without a command: one full push and pull, as the staff"
        " member in WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD (exit 1 when operations were"
        " refused or the server could not be reached, 2 for bad usage)."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The hall server's URL (default: WINDOW_CLIENT_SERVER or config.toml).",
        metavar="URL",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """``error: message`` (``错误：`` in Chinese) on stderr, on one line however narrow the
    terminal (scripts grep it)."""
    err.print(f"[red]{say('error')}[/]{shown(message)}", soft_wrap=True)
    raise typer.Exit(code)


def with_server(rt: Runtime, server: str | None) -> None:
    """Point the runtime at ``--server`` (checked), or check the configured URL."""
    url = server if server is not None else rt.settings.server
    try:
        checked = check_server_url(url)
    except BadServerURL as exc:
        _fail(problem_text(exc), EXIT_USAGE)
    if checked != rt.settings.server:
        rt.settings = replace(rt.settings, server=checked)


@app.callback()
def sync(
    ctx: typer.Context,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run one full push and pull with the hall server (credentials from WINDOW_CLIENT_USER and
    WINDOW_CLIENT_PASSWORD). Exit 1 when operations were refused or the server is unreachable."""
    ctx.obj = {"server": server, "json": json_output}
    if ctx.invoked_subcommand is not None:
        return
    user = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if not user or not password:
        _fail(say("sync.credentials"))
    with runtime() as rt:
        with_server(rt, server)
        service = rt.sync
        try:
            member = service.sign_in_online(user, password)
        except SignInError as exc:
            where = {"user": user, "station": rt.station.code, "server": rt.settings.server}
            if exc.code == "forbidden":
                _fail(say("sync.forbidden", **where))
            if exc.code == "locked":
                _fail(f"{say('sync.locked', **where)}\n{exc.message}")
            _fail(say("sync.sign_in_refused", **where))
        except HallError as exc:
            _report_failure(SyncReport(pending=rt.pending_operations()), exc, json_output, service)
            raise typer.Exit(EXIT_FAILED) from None
        del member  # the sign-in refreshed the cached hash; pushing needs only the token
        report = rt.sync_once()
        if report.error is not None:
            _report_failure(report, report.error, json_output, service)
            raise typer.Exit(EXIT_FAILED)
        if json_output:
            print_json(report.as_contract())
        else:
            counts = report.as_contract()
            out.print(say("sync.done", server=shown(rt.settings.server), **counts))
        if report.audit_alarm is not None:
            alarm = say("sync.audit_alarm", reason=shown(problem_text(report.audit_alarm)))
            err.print(f"[red]{alarm}[/]", soft_wrap=True)
        if report.refused:
            err.print(say("sync.refused", count=report.refused), soft_wrap=True)
        if report.refused or report.audit_alarm is not None:
            raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(EXIT_OK)


def _report_failure(report: SyncReport, error: HallError, json_output: bool, service: SyncService) -> None:
    """Whatever was done is printed; the reason goes to stderr in the chosen language."""
    if json_output:
        print_json(report.as_contract())
    retry_at = service.status.next_retry_at
    retry = (retry_at - service.engine.clock()).total_seconds() if retry_at else None
    if isinstance(error, Unreachable):
        message = say("sync.unreachable", message=error.message, pending=report.pending)
    elif isinstance(error, AuthRequired):
        message = say("sync.auth_required", code=error.code)
    elif isinstance(error, ServerError):
        message = say("sync.server_error", status=error.status, code=error.code, message=error.message)
    else:
        message = problem_text(describe_error(error, retry))
    err.print(f"[red]{say('error')}[/]{shown(message)}", soft_wrap=True)


@app.command("status")
def status(
    ctx: typer.Context,
    json_output: JsonOption = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the server whether it is up.")
    ] = False,
) -> None:
    """Show the queued and refused operations, the last sync and whether the hall answers."""
    options = ctx.obj or {}
    json_output = json_output or bool(options.get("json"))
    with runtime() as rt:
        with_server(rt, options.get("server"))
        service = rt.sync
        st = service.engine.refresh_counts()
        online: bool | None = None
        if not offline:
            try:
                service.client.health()
                online = True
            except HallError:
                online = False
        stale = rt.acceptance.staleness()
        data = {
            "server": rt.settings.server,
            "station": rt.station.code,
            "online": online,
            "pending": st.pending,
            "refused": st.refused,
            "last_sync_at": st.last_sync_at.isoformat() if st.last_sync_at else None,
            "accepting": stale is None,
            "stale_reason": problem_text(stale) if stale else None,
        }
    if json_output:
        print_json(data)
        return
    state = say(
        {True: "sync.status_online", False: "sync.status_unreachable", None: "sync.status_unchecked"}[online]
    )
    out.print(shown(say("sync.status_server", server=data["server"], state=state)))
    out.print(shown(say("sync.status_station", station=data["station"])))
    out.print(say("sync.status_pending", pending=data["pending"]))
    out.print(say("sync.status_refused", refused=data["refused"]))
    out.print(shown(say("sync.status_last", at=data["last_sync_at"] or say("sync.status_never"))))
    if stale is not None:
        out.print(f"[red]{say('sync.status_stale')}[/]{shown(problem_text(stale))}")


@app.command("refused")
def refused(
    ctx: typer.Context,
    json_output: JsonOption = False,
    include_reviewed: Annotated[bool, typer.Option("--all", help="Include reviewed ones.")] = False,
) -> None:
    """List the operations the hall refused (kept locally), with the reason and what to do."""
    options = ctx.obj or {}
    json_output = json_output or bool(options.get("json"))
    with runtime() as rt:
        rows = rt.sync.refused(include_reviewed)
    if json_output:
        print_json({"refused": [r.to_json() for r in rows]})
        return
    if not rows:
        out.print(say("sync.none_refused" if include_reviewed else "sync.none_awaiting"))
        return
    table = Table(*labels("sync.refused_columns"))
    chinese = current() == "zh"
    for r in rows:
        table.add_row(
            shown(r.op_id[:12]),
            shown(r.case_no or ""),
            shown(r.event or r.kind),
            shown(r.code),
            shown(r.reason),
            shown(r.action_zh if chinese else r.action_en),
            shown(f"{r.reviewed_by} {r.reviewed_at}") if r.reviewed_by else "",
        )
    out.print(table)


@app.command("acknowledge")
def acknowledge(
    op_id: Annotated[str, typer.Argument(help="The refused operation's id (from `sync refused`).")],
) -> None:
    """Record that you reviewed a refused operation (WINDOW_CLIENT_USER); it stays on record."""
    by = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    if not by:
        _fail(say("sync.reviewer"))
    with runtime(by) as rt:
        matches = [r for r in rt.sync.refused(include_reviewed=True) if op_id and r.op_id.startswith(op_id)]
        if not matches:
            _fail(say("sync.no_such_refused", op_id=op_id))
        if len(matches) > 1:
            _fail(say("sync.ambiguous_refused", op_id=op_id, count=len(matches)))
        row = rt.sync.acknowledge(matches[0].op_id, by)
    out.print(shown(say("sync.reviewed", op_id=row.op_id, by=row.reviewed_by, at=row.reviewed_at)))
