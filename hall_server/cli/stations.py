"""``hall-server stations audit|audit-reset``: what the hall witnessed of each station's audit trail.

Every push carries the station's audit head; the hall keeps them (:mod:`hall_server.domain.anchors`).
``stations audit`` lists, per station, the highest head accepted and every alarm (a head that
went back, was rewritten, could not be tied to the last one, or was not sealed by the station's
key) since the last reset; it exits 1 when any station has an alarm. ``stations audit-reset``
starts a new baseline once the back office has looked into it (a reinstalled station, say).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hall_server import storage
from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.domain import anchors
from hall_server.storage import read_transaction, write_transaction

app = typer.Typer(
    help="Stations as the hall sees them: their audit trails (back office).", no_args_is_help=True
)


@app.command("audit")
def audit(
    json_out: JsonOption = False,
    station: Annotated[str | None, typer.Option("--station", help="Only this station.")] = None,
    db: DbOption = None,
) -> None:
    """Each station's last accepted audit head and its audit alarms (exit 1 when there are any)."""
    with using_engine(db) as engine, read_transaction(engine) as conn:
        found = [s for s in anchors.summaries(conn) if station is None or s["station"] == station]
    if json_out:
        echo_json({"stations": found})
    elif not found:
        typer.echo("no audit heads received" + (f" from {station}" if station else ""))
    else:
        typer.echo(f"{'station':<8} {'anchored':>9}  {'last head at':<32} alarms")
        for entry in found:
            seq = "-" if entry["anchored_seq"] is None else entry["anchored_seq"]
            typer.echo(
                f"{entry['station']:<8} {seq:>9}  {entry['anchored_at'] or '-':<32} {len(entry['alarms'])}"
            )
            for alarm in entry["alarms"]:
                typer.echo(
                    f"    ALARM {alarm['code']}: head {alarm['seq']} (hall held {alarm['expected_seq']})"
                    f" from {alarm['staff_no']} at {alarm['at']}"
                )
    if any(entry["alarms"] for entry in found):
        raise typer.Exit(1)


@app.command("audit-reset")
def audit_reset(
    station: Annotated[str, typer.Argument(help="The station code.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (recorded).")] = "back-office",
    db: DbOption = None,
) -> None:
    """Start a new audit baseline for a station after its alarms were looked into: the next head
    it sends is accepted as is, and earlier heads no longer count."""
    with using_engine(db) as engine, write_transaction(engine) as conn:
        if not storage.station_exists(conn, station):
            fail(f"no such station: {station}")
        anchors.reset(conn, station, by, dt.datetime.now(dt.UTC))
    typer.echo(f"{station}: a new audit baseline starts with its next push")
