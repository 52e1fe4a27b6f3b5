"""``hall-server queue report``: the stations' queues (排队叫号) as the hall holds them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.services import queue as queue_service
from models.queue import CATEGORY_ZH, CHINA, queue_day
from models.queue_figures import minutes
from models.sync.queue import QueueFiguresRow
from models.text import printable

app = typer.Typer(help="The stations' queues (排队叫号): the day's figures.", no_args_is_help=True)


@app.command("report")
def report(
    day: Annotated[
        str | None, typer.Option("--day", help="The day, YYYY-MM-DD (default: today in China).")
    ] = None,
    station: Annotated[str | None, typer.Option("--station", help="Only this station.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Per station, window and category: tickets, served, skipped, mean and p90 wait (taken to
    first call) and mean service time (start to 办结), from what the stations pushed."""
    try:
        when = dt.date.fromisoformat(day) if day else queue_day(dt.datetime.now(dt.UTC), CHINA)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {day}")
    with using_engine(db) as engine:
        rows = queue_service.report(engine, when, station)
    if json_out:
        echo_json(
            {"day": when.isoformat(), "rows": [QueueFiguresRow.of(r).model_dump(mode="json") for r in rows]}
        )
        return
    if not rows:
        typer.echo(f"no tickets on {when}")
        return
    typer.echo(
        f"{'station':<8} {'window':<7} {'category':<16} {'tickets':>7} {'served':>7} {'skipped':>7}"
        f" {'wait min':>9} {'p90 min':>8} {'service min':>12}"
    )
    for r in rows:
        category = f"{r.category.value} {CATEGORY_ZH[r.category]}"
        typer.echo(
            f"{printable(r.station):<8} {printable(r.window or '-'):<7} {category:<16} {r.tickets:>7}"
            f" {r.served:>7} {r.skipped:>7} {minutes(r.mean_wait):>9} {minutes(r.p90_wait):>8}"
            f" {minutes(r.mean_service):>12}"
        )
    typer.echo(f"{sum(r.tickets for r in rows)} ticket(s) on {when}")
