"""``window-client calendar``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.enums import TimeUnit
from models.timelimits import TimeLimit
from window_client.cli.common import out, print_json, runtime, shown
from window_client.cli.lang import say
from window_client.services.runtime import parse_day

calendar_app = typer.Typer(help="Working days and holiday arrangements (调休).", no_args_is_help=True)


@calendar_app.command("import")
def import_year(
    file: Annotated[Path, typer.Argument(help="A year's arrangement as JSON (see README).")],
) -> None:
    """Import a year's official holiday arrangement, replacing any earlier one for that year."""
    with runtime() as rt:
        arrangement = rt.import_arrangement(file)
        done = say(
            "calendar.imported",
            year=arrangement.year,
            holidays=len(arrangement.holidays),
            workdays=len(arrangement.workdays),
            source=arrangement.source,
        )
        out.print(shown(done))


@calendar_app.command("years")
def years() -> None:
    """List the years whose arrangement is known (others count weekends only: provisional)."""
    with runtime() as rt:
        for year, arrangement in sorted(rt.calendar.arrangements.items()):
            out.print(f"{year}\t{shown(arrangement.source)}")


@calendar_app.command("add")
def add(
    start: Annotated[str, typer.Argument(help="Start date YYYY-MM-DD (not counted).")],
    days: Annotated[int, typer.Argument(min=0, max=3650, help="How many days.")],
    unit: Annotated[TimeUnit, typer.Option(help="workday or calendar_day.")] = TimeUnit.WORKDAY,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The deadline of a time limit counted from START."""
    with runtime() as rt:
        due = rt.calendar.add(parse_day(start), TimeLimit(days, unit))
    if json_output:
        print_json({"date": due.date.isoformat(), "provisional": due.provisional})
    else:
        out.print(due.date.isoformat() + (say("calendar.provisional") if due.provisional else ""))
