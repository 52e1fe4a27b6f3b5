"""``hall-server notify run|list``: the hall's reminders (差评整改 due → the assignee).

``run [--dry-run] [--today D] [--sender log|http] [--url URL] [--json]`` queues what the rule asks
for and sends everything pending; exit 0 all sent, 1 some could not be sent (kept, tried again
at the next run), 2 bad configuration (an unknown sender, a gateway URL that is not http(s)) —
then nothing is queued or sent. ``list [--case CASE_NO] [--status S] [--json]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, server_home, using_engine
from hall_server.services.notify import HallNotifier, hall_config
from models.notify import NotifyConfigError, RunBusy, Status
from models.text import printable

app = typer.Typer(help="Reminders of the hall's rules (差评整改 due): run, list.", no_args_is_help=True)


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--today is a date YYYY-MM-DD, not {value[:20]!r}")


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be queued; send nothing.")
    ] = False,
    today: Annotated[str | None, typer.Option("--today", help="The day the rules look at.")] = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help="log or http (else [notify] sender).")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="The SMS gateway (with --sender http).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Queue the reminders due and send every pending one (each exactly once)."""
    day = _day(today)
    home = server_home()
    try:
        config = hall_config(home, sender, url)
    except NotifyConfigError as exc:
        fail(str(exc))
    with using_engine(db) as engine:
        try:
            report = HallNotifier(engine, home).run(config, day, dry_run)
        except RunBusy:
            fail("another notify run is in progress; try again when it has finished", 1)
    if json_out:
        echo_json(report.to_json())
    else:
        verb = "would queue" if dry_run else "queued"
        typer.echo(f"{verb} {len(report.generated)}, sent {len(report.sent)}, failed {len(report.failed)}"
                   f" via {config.describe()}; {report.pending} pending")  # fmt: skip
        for failure in report.failed:
            typer.echo(printable(f"  not sent {failure['key']}: {failure['error']}"), err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command("list")
def list_notifications(
    case: Annotated[str | None, typer.Option("--case", help="Only this case's.")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only in this status.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The hall's notification outbox, oldest first."""
    with using_engine(db) as engine:
        found = HallNotifier(engine, server_home()).listing(case, status.value if status else None)
    if json_out:
        echo_json({"notifications": found})
        return
    for n in found:
        typer.echo(
            printable(f"{n['status']:<8} {n['due_on']} {n['case_no']:<24} → {n['to']:<6} {n['rule_zh']}")
        )
    typer.echo(f"{len(found)} notification(s)")
