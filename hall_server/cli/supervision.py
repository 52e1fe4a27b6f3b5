"""首办负责人 and timeliness at the hall: ``hall-server cases assign|overdue|timeliness|sweep`` and
``hall-server handlers set-default|clear|list``.

Exit codes: 0 done; 1 refused (who may not assign, an inactive assignee, a case not open) or,
for ``overdue``, some case is overdue; 2 bad usage (unknown case, item or department).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from hall_server.cli.cases import app as cases_app
from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.domain.vetting import CHINA
from hall_server.services.timeliness import SupervisionError, TimelinessDesk
from models.text import printable
from models.timeliness import FLAG_ZH

handlers_app = typer.Typer(
    help="Default 首办负责人 per item or department: set-default, clear, list.", no_args_is_help=True
)
ByOption = Annotated[str, typer.Option("--by", help="Who does it: a hall staff number (checked).")]
TodayOption = Annotated[
    str | None, typer.Option("--today", help="Judge on this day (YYYY-MM-DD; default: the hall's today).")
]


def _desk(engine: Engine, today: str | None) -> TimelinessDesk:
    """The desk, on the hall's clock or at noon (China time) of ``--today``."""
    if today is None:
        return TimelinessDesk(engine)
    try:
        day = dt.date.fromisoformat(today)
    except ValueError:
        fail(f"--today is a date YYYY-MM-DD, not {today[:20]!r}")
    moment = dt.datetime.combine(day, dt.time(12), CHINA)
    return TimelinessDesk(engine, clock=lambda: moment)


class GroupBy(StrEnum):
    """How the timeliness report groups the open cases."""

    DEPT = "dept"
    HANDLER = "handler"


def _line(view: dict[str, Any]) -> str:
    handler = view["handler"] or "-"
    left = f"{view['days_left']:+d}" + ("(补正中)" if view["paused"] else "")
    return printable(
        f"{FLAG_ZH[view['flag']]} {view['case_no']:<24} {view['due_date']} {left:<10} {view['department']:<6}"
        f" {handler:<6} {view['item_name']}"
    )


@cases_app.command("assign")
def assign(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    to: Annotated[str, typer.Option("--to", help="The staff number who answers for the decision.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Name a case's 首办负责人 (an admin, or a supervisor of the case's station)."""
    with using_engine(db) as engine:
        try:
            view = TimelinessDesk(engine).assign(case_no, to, by)
        except SupervisionError as exc:
            fail(str(exc), exc.exit_code)
    if json_out:
        echo_json(view)
        return
    typer.echo(printable(f"{case_no}: 首办负责人 {to} ({view['handler_name']}), due {view['due_date']}"))


@cases_app.command("overdue")
def overdue(today: TodayOption = None, json_out: JsonOption = False, db: DbOption = None) -> None:
    """The open cases past their 承诺时限 (红), most overdue first; exit 1 when there are any."""
    with using_engine(db) as engine:
        desk = _desk(engine, today)
        found = desk.overdue()
        day = desk.today()
    if json_out:
        echo_json({"today": day.isoformat(), "cases": found})
    elif not found:
        typer.echo("no overdue cases")
    else:
        for view in found:
            typer.echo(_line(view))
        typer.echo(f"{len(found)} overdue case(s)")
    if found:
        raise typer.Exit(1)


@cases_app.command("timeliness")
def timeliness(
    by: Annotated[
        GroupBy, typer.Option("--by", help="Group per department or per 首办负责人.")
    ] = GroupBy.DEPT,
    today: TodayOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """红黄绿 of every open case, per department or per handler (counts and the overdue cases)."""
    with using_engine(db) as engine:
        report = _desk(engine, today).report(by.value)
    if json_out:
        echo_json(report)
        return
    typer.echo(f"{'key':<8} {'name':<20} {'open':>5} {'红':>4} {'黄':>4} {'绿':>4} {'补正中':>5}")
    for group in [*report["groups"], report["total"]]:
        typer.echo(
            printable(
                f"{group['key'] or '-':<8} {group['name']:<20} {group['open']:>5} {group['red']:>4}"
                f" {group['yellow']:>4} {group['green']:>4} {group['paused']:>5}"
            )
        )


@cases_app.command("sweep")
def sweep(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Publish now the ``case.timeliness`` changes due (the server also does it by itself)."""
    with using_engine(db) as engine:
        published = TimelinessDesk(engine).sweep()
    if json_out:
        echo_json({"published": published})
    else:
        typer.echo(f"{published} change(s) published")


@handlers_app.command("set-default")
def set_default(
    code: Annotated[str, typer.Argument(help="An item or package code, or a department code.")],
    staff: Annotated[str, typer.Argument(help="The staff number who handles its cases by default.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Set the default 首办负责人 of an item or a department (an admin; an item's wins)."""
    with using_engine(db) as engine:
        try:
            row = TimelinessDesk(engine).set_default(code, staff, by)
        except SupervisionError as exc:
            fail(str(exc), exc.exit_code)
    if json_out:
        echo_json(row)
    else:
        typer.echo(printable(f"{row['scope']} {code}: default handler {staff}"))


@handlers_app.command("clear")
def clear(
    code: Annotated[str, typer.Argument(help="An item or package code, or a department code.")],
    by: ByOption,
    db: DbOption = None,
) -> None:
    """Remove the default 首办负责人 of an item or a department (exit 1 when there was none)."""
    with using_engine(db) as engine:
        try:
            removed = TimelinessDesk(engine).clear_default(code, by)
        except SupervisionError as exc:
            fail(str(exc), exc.exit_code)
    if not removed:
        fail(f"{code} has no default handler", 1)
    typer.echo(printable(f"{code}: default handler removed"))


@handlers_app.command("list")
def list_defaults(json_out: JsonOption = False, db: DbOption = None) -> None:
    """The default 首办负责人 of each item and department."""
    with using_engine(db) as engine:
        found = TimelinessDesk(engine).defaults()
    if json_out:
        echo_json({"defaults": found})
        return
    for row in found:
        typer.echo(
            printable(
                f"{row['scope']:<10} {row['code']:<12} {row['staff_no']:<6} {row['staff_name'] or '?'}"
                f"{'' if row['staff_active'] else ' (inactive: not in force)'}"
            )
        )
    typer.echo(f"{len(found)} default(s)")
