"""The ``hall-server`` command: serve, seed the demo accounts, publish reference data, back office.

``hall-server`` alone (or with ``--host/--port/--db``) serves, like ``hall-server serve``.
"""

from __future__ import annotations

import typer

from hall_server.cli import (
    archive,
    cases,
    certs,
    key,
    notify,
    partners,
    publish,
    queue,
    ratings,
    serve,
    staff,
    stations,
    supervision,
)
from hall_server.cli.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DbOption,
    JsonOption,
    echo_json,
    fail,
    using_engine,
)
from hall_server.domain import reference
from hall_server.services import demo
from hall_server.services.hall import DEFAULT_TOKEN_TTL_SECONDS
from models.text import printable

app = typer.Typer(
    name="hall-server",
    help="The reference hall server the window client syncs with.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cases.app, name="cases")
app.add_typer(certs.app, name="certs")
app.add_typer(ratings.app, name="ratings")
app.add_typer(staff.app, name="staff")
app.add_typer(stations.app, name="stations")
app.add_typer(archive.app, name="archive")
app.add_typer(queue.app, name="queue")
app.add_typer(supervision.handlers_app, name="handlers")
app.add_typer(notify.app, name="notify")
app.add_typer(key.app, name="key")
app.add_typer(partners.app, name="partners")
publish.catalog_app.command("diff")(partners.diff)
app.add_typer(publish.catalog_app, name="catalog")
app.add_typer(publish.holidays_app, name="holidays")
app.command("serve")(serve.command)


@app.callback(invoke_without_command=True)
def default(
    ctx: typer.Context,
    host: serve.HostOption = DEFAULT_HOST,
    port: serve.PortOption = DEFAULT_PORT,
    db: DbOption = None,
    catalog: serve.CatalogOption = None,
    token_ttl: serve.TtlOption = DEFAULT_TOKEN_TTL_SECONDS,
) -> None:
    """Without a command: serve (same options as ``serve``)."""
    if ctx.invoked_subcommand is None:
        serve.serve(host, port, db, catalog, token_ttl)


@app.command("demo-data")
def demo_data(
    json_out: JsonOption = False,
    db: DbOption = None,
    catalog: serve.CatalogOption = None,
) -> None:
    """Create the catalogue's stations and the demo staff accounts (idempotent) and print them."""
    try:
        data = reference.load_catalog(catalog or reference.SHIPPED_CATALOG)
    except reference.ReferenceDataError as exc:
        fail(str(exc))
    with using_engine(db) as engine:
        accounts, stations = demo.seed_demo(engine, data)
    if json_out:
        echo_json(
            {
                "staff": [
                    {
                        "staff_no": a.staff_no,
                        "password": a.password,
                        "role": a.role.value,
                        "station": a.station,
                    }
                    for a in accounts
                ],
                "stations": stations,
            }
        )
        return
    typer.echo(f"{'staff_no':<9} {'role':<11} {'station':<7} password")
    for a in accounts:
        typer.echo(printable(f"{a.staff_no:<9} {a.role.value:<11} {a.station:<7} {a.password}"))
    typer.echo(printable(f"{len(stations)} stations: " + ", ".join(s["code"] for s in stations)))


def main() -> None:
    """Console-script entry point."""
    app()
