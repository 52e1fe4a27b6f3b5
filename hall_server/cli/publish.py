"""``hall-server catalog publish FILE`` and ``hall-server holidays publish FILE``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.domain import reference
from hall_server.services import publishing

catalog_app = typer.Typer(help="The catalogue the hall publishes to every station.", no_args_is_help=True)
holidays_app = typer.Typer(help="Holiday arrangements (节假日安排) the hall publishes.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="The JSON file to publish.")]


@catalog_app.command("publish")
def publish_catalog(file: FileArgument, json_out: JsonOption = False, db: DbOption = None) -> None:
    """Publish a catalogue (same JSON shape as the client's); every station is told to fetch it."""
    with using_engine(db) as engine:
        try:
            document = publishing.publish_catalog(engine, file, dt.datetime.now(dt.UTC))
        except reference.ReferenceDataError as exc:
            fail(str(exc))
    if json_out:
        echo_json({"version": document.version, "revision": document.revision})
    else:
        typer.echo(f"published catalogue {document.version} as revision {document.revision}")


@holidays_app.command("publish")
def publish_holidays(file: FileArgument, json_out: JsonOption = False, db: DbOption = None) -> None:
    """Publish a year's arrangement (the shape of models/data/holidays/2026.json)."""
    with using_engine(db) as engine:
        try:
            document = publishing.publish_holidays(engine, file, dt.datetime.now(dt.UTC))
        except reference.ReferenceDataError as exc:
            fail(str(exc))
    if json_out:
        echo_json({"year": document.year, "version": document.version})
    else:
        typer.echo(f"published the {document.year} holiday arrangement as version {document.version}")
