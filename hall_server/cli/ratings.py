"""``hall-server ratings``: 好差评 at the hall — the ratings, the 差评整改 workflow, the report.

``list [--bad] [--open] [--station S] [--json]``; ``assign ID --to STAFF --by STAFF``;
``verify ID --note T --by STAFF`` (核实, due 1 工作日); ``rectify ID --note T --by STAFF`` (整改, due
15 工作日); ``callback ID --result T --by STAFF`` (回访, closes it); ``report [--from D] [--to D]
[--station S] [--json]``. ``--by`` must be a hall account allowed the step (a supervisor of the
record's station or an admin; the assignee may verify and rectify). Exit 0 done, 1 refused (the
message says why), 2 bad usage.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.services.ratings import RatingDesk
from models.problems import DomainError
from models.rating import LEVELS
from models.text import printable

app = typer.Typer(
    help="好差评: ratings, 差评整改 (assign, verify, rectify, call back), report.", no_args_is_help=True
)

IdArgument = Annotated[int, typer.Argument(help="The rectification record's id (ratings list --bad).")]
ByOption = Annotated[str, typer.Option("--by", help="Who does it: a hall staff number (checked).")]
StationOption = Annotated[str | None, typer.Option("--station", help="Only this station.")]
FLAG_ZH = {"red": "红", "yellow": "黄", "green": "绿", None: ""}


def _done(record: dict[str, Any], json_out: bool) -> None:
    if json_out:
        echo_json(record)
        return
    typer.echo(
        printable(
            f"#{record['id']} {record['case_no']}: {record['state']} ({record['state_zh']})"
            f"  due {record['due'] or '-'} {FLAG_ZH[record['flag']]}"
        )
    )


def _step(
    action: str, json_out: bool, db: str | None, record_id: int, by: str, text: str | None = None
) -> None:
    with using_engine(db) as engine:
        desk = RatingDesk(engine)
        try:
            if action == "assign":
                record = desk.assign(record_id, text or "", by)
            else:
                record = getattr(desk, action)(record_id, by, text or "")
        except DomainError as exc:
            fail(exc.problem.en(), 1 if exc.problem.code.startswith("rectification.") else 2)
    _done(record, json_out)


@app.command("list")
def list_ratings(
    bad: Annotated[bool, typer.Option("--bad", help="The 差评 and their rectification records.")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="With --bad: only records not closed.")] = False,
    station: StationOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List the ratings (newest first); with --bad the rectification records (oldest first)."""
    with using_engine(db) as engine:
        desk = RatingDesk(engine)
        found = desk.rectifications(station, open_only) if bad else desk.ratings(station)
    if json_out:
        echo_json({"rectifications" if bad else "ratings": found})
        return
    if bad:
        typer.echo(f"{'id':>4} {'case_no':<24} {'lvl':>3} {'state':<9} {'due':<10} flag assigned")
        for r in found:
            typer.echo(
                printable(
                    f"{r['id']:>4} {r['case_no']:<24} {r['level']:>3} {r['state']:<9} {r['due'] or '-':<10}"
                    f" {FLAG_ZH[r['flag']]:<4} {r['assigned_to'] or '-'}"
                )
            )
    else:
        typer.echo(f"{'case_no':<24} {'channel':<7} {'lvl':>3} {'station':<8} {'window':<6} rated_on")
        for r in found:
            level = "-" if r["level"] is None else r["level"]
            typer.echo(
                printable(
                    f"{r['case_no']:<24} {r['channel']:<7} {level:>3} {r['station']:<8} {r['window']:<6}"
                    f" {r['rated_on']}"
                )
            )
    typer.echo(f"{len(found)} {'record(s)' if bad else 'rating(s)'}")


@app.command("assign")
def assign(
    record_id: IdArgument,
    to: Annotated[str, typer.Option("--to", help="The staff number who handles it.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """分派: hand the record to a staff member of its station (a supervisor or admin does this)."""
    _step("assign", json_out, db, record_id, by, to)


@app.command("verify")
def verify(
    record_id: IdArgument,
    note: Annotated[str, typer.Option("--note", help="What the verification found.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """核实 (due 1 工作日 after the 差评 arrived)."""
    _step("verify", json_out, db, record_id, by, note)


@app.command("rectify")
def rectify(
    record_id: IdArgument,
    note: Annotated[str, typer.Option("--note", help="What was put right.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """整改 (due 15 工作日 after the 差评 arrived, on the hall's holiday data)."""
    _step("rectify", json_out, db, record_id, by, note)


@app.command("callback")
def callback(
    record_id: IdArgument,
    result: Annotated[str, typer.Option("--result", help="The applicant's answer to the call back.")],
    by: ByOption,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """回访: record the call back's result and close the record (a supervisor or admin)."""
    _step("callback", json_out, db, record_id, by, result)


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name} is a date YYYY-MM-DD, not {value[:20]!r}")


@app.command("report")
def report(
    first: Annotated[str | None, typer.Option("--from", help="First acceptance day (YYYY-MM-DD).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last acceptance day (YYYY-MM-DD).")] = None,
    station: StationOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """好差评 across stations: counts per level, unrated, 好评率 ((5+4+3) / rated), per station,
    window, staff member and item, and the open rectifications."""
    start, end = _day(first, "--from"), _day(last, "--to")
    with using_engine(db) as engine:
        try:
            found = RatingDesk(engine).report(start, end, station)
        except DomainError as exc:
            fail(exc.problem.en())
    if json_out:
        echo_json(found)
        return
    counts = "  ".join(f"{level}: {found['counts'][str(level)]}" for level in LEVELS)
    rate = found["good_rate"]
    typer.echo(f"{counts}  unrated: {found['unrated']}  good rate: {'-' if rate is None else f'{rate:.2%}'}")
    for row in found["by_station"]:
        typer.echo(
            printable(f"  {row['station']:<8} rated {row['rated']} of {row['cases']}, bad {row['bad']}")
        )
    typer.echo(f"open rectifications: {len(found['open_rectifications'])}")
