"""``hall-server partners add|list|remove|sync|cases`` and ``hall-server catalog diff PARTNER``:
跨区通办 with partner halls.

- ``partners add NAME --url URL --key FILE`` — checks that URL is a hall named NAME holding the
  key in FILE (its signed identity), records it and publishes its key to this hall's stations;
  anything else is a clear error (exit 2) and changes nothing.
- ``partners list [--json]`` — partners with the messages waiting for each and the last error.
- ``partners remove NAME`` — stop exchanging messages (adding it again resumes).
- ``partners sync [--json] [--partner NAME]`` — one round of the outbox ``serve`` runs in the
  background: certificates of received cases approved here, then delivery (exit 1 when a
  partner could not be reached or refused something).
- ``partners cases [--json]`` — the 跨区通办 cases: forwarded from here and received here.
- ``catalog diff PARTNER [--json]`` — 同事同标: where the partner's version of each linked item
  differs (name, materials, 承诺时限, 法定时限); exit 1 when any does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.cli.key import KeyFileOption, key_path
from hall_server.domain.partner_auth import HallIdentity
from hall_server.domain.reference import shipped_catalog
from hall_server.services import hall_key, partners
from hall_server.services.forwarder import TIMEOUT, run_round
from hall_server.storage import read_transaction
from hall_server.storage.partners import cross_case_list
from models.text import printable

app = typer.Typer(help="Partner halls (跨区通办): add, list, remove, sync.", no_args_is_help=True)
NameArgument = Annotated[str, typer.Argument(help="The partner hall's name (its `key show`).")]


def _identity(key_file: Path | None) -> HallIdentity | None:
    try:
        return hall_key.load(key_path(key_file))
    except hall_key.HallKeyError as exc:
        fail(str(exc))


@app.command("add")
def add(
    name: NameArgument,
    url: Annotated[str, typer.Option("--url", help="The partner's URL (http://HOST:PORT).")],
    key: Annotated[Path, typer.Option("--key", help="The partner's `hall-server key show --json`.")],
    by: Annotated[str, typer.Option("--by", help="Who adds it (recorded).")] = "back-office",
    json_out: JsonOption = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Add partner hall NAME at URL, whose key is in FILE (checked against its signed identity)."""
    own = _identity(key_file)
    try:
        public = partners.read_key_file(key)
        with using_engine(db) as engine, httpx.Client(timeout=TIMEOUT) as client:
            row = partners.add_partner(engine, own, name, url, public, by, client, shipped_catalog())
    except partners.PartnerError as exc:
        fail(str(exc))
    if json_out:
        echo_json({k: row[k] for k in ("name", "url", "key_id", "issuer_code")})
    else:
        typer.echo(printable(f"partner {row['name']} at {row['url']}: key {row['key_id']} verified"))


@app.command("list")
def list_partners(json_out: JsonOption = False, db: DbOption = None) -> None:
    """The partner halls, with the messages waiting for each and its last error."""
    with using_engine(db) as engine:
        found = partners.list_partners(engine)
    if json_out:
        echo_json({"partners": found})
        return
    if not found:
        typer.echo("no partner halls")
    for row in found:
        error = f"  last error: {row['last_error']}" if row["last_error"] else ""
        typer.echo(printable(f"{row['name']:<16} {row['url']:<32} waiting {row['waiting']}{error}"))


@app.command("remove")
def remove(name: NameArgument, db: DbOption = None) -> None:
    """Stop exchanging messages with NAME (what waits for it is kept)."""
    with using_engine(db) as engine:
        try:
            partners.remove_partner(engine, name)
        except partners.PartnerError as exc:
            fail(str(exc))
    typer.echo(f"{name} is no longer a partner")


@app.command("sync")
def sync(
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """One round of the partner outbox: issue the certificates of received cases approved
    here, then deliver every waiting message (exit 1 when something was not delivered)."""
    identity = _identity(key_file)
    if identity is None:
        fail("the hall has no key yet: hall-server key init NAME")
    with using_engine(db) as engine, httpx.Client(timeout=TIMEOUT) as client:
        issued, deliveries = run_round(engine, identity, shipped_catalog(), client, partner)
    if json_out:
        echo_json({"certified": issued, "partners": [d.to_json() for d in deliveries]})
    else:
        typer.echo(f"certificates issued: {issued}")
        for d in deliveries:
            error = f"; error: {d.error} ({d.waiting} waiting)" if d.error else ""
            typer.echo(printable(f"{d.partner}: delivered {d.sent}, refused {d.refused}{error}"))
    if any(d.error or d.refused for d in deliveries):
        raise typer.Exit(1)


@app.command("cases")
def cases(
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The 跨区通办 cases: forwarded from here (origin) and received here (owner)."""
    with using_engine(db) as engine, read_transaction(engine) as conn:
        found = cross_case_list(conn, partner)
    if json_out:
        echo_json({"cases": found})
        return
    for row in found:
        extra = f"  {row['code']}: {row['reason']}" if row["code"] else ""
        typer.echo(
            printable(
                f"{row['case_no']:<24} {row['role']:<6} {row['partner']:<12} {row['status']:<10}"
                f" {row['state']}{extra}"
            )
        )
    typer.echo(f"{len(found)} case(s)")


def diff(
    partner: NameArgument,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """同事同标: where PARTNER's version of each item linked to it differs from this hall's
    (name, materials, 承诺时限, 法定时限). Exit 1 when any differs or is missing."""
    with using_engine(db) as engine, httpx.Client(timeout=TIMEOUT) as client:
        try:
            found = partners.catalog_diff(engine, partner, client, shipped_catalog())
        except partners.PartnerError as exc:
            fail(str(exc))
    differing = [e for e in found if e["missing"] or e["differences"]]
    if json_out:
        echo_json({"partner": partner, "items": found, "differing": len(differing)})
    else:
        typer.echo(f"{len(found)} item(s) linked to {partner}, {len(differing)} differ")
        for entry in differing:
            head = f"{entry['item']} ↔ {partner} {entry['partner_item']} ({entry['role']})"
            if entry["missing"]:
                typer.echo(printable(f"  {head}: missing at {partner}"))
                continue
            for d in entry["differences"]:
                typer.echo(printable(f"  {head}: {d['field']}: here {d['here']} / there {d['there']}"))
    if differing:
        raise typer.Exit(1)
