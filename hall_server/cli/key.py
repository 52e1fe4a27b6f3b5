"""``hall-server key init|show``: the hall's own SM2 key, its identity among partner halls.

``key init NAME [--issuer-code USCC]`` makes it (refused when the hall has one: partners know
it); ``key show [--json]`` prints the public half — the file a partner hall gives to
``hall-server partners add NAME --url URL --key FILE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hall_server.cli.common import JsonOption, echo_json, fail, server_home
from hall_server.services import hall_key

app = typer.Typer(help="The hall's own key: its identity among partner halls.", no_args_is_help=True)

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="The hall's key file (default: hall-key.json, or an older archive-key.json, in"
        " $HALL_SERVER_HOME or ~/.hall-server).",
        show_default=False,
    ),
]


def key_path(key_file: Path | None) -> Path:
    """``--key-file`` or the default in ``$HALL_SERVER_HOME``."""
    return key_file or hall_key.default_path(server_home())


@app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="The hall's name among its partners (A-Z0-9, 2-16).")],
    issuer_code: Annotated[
        str,
        typer.Option(
            "--issuer-code",
            help="统一社会信用代码 of the authority in whose name the hall issues certificates"
            " for cases received from partners.",
        ),
    ] = "",
    json_out: JsonOption = False,
    key_file: KeyFileOption = None,
) -> None:
    """Make the hall's SM2 key, named NAME (refused when it has one already)."""
    path = key_path(key_file)
    try:
        identity = hall_key.create(path, name, issuer_code)
    except hall_key.HallKeyError as exc:
        fail(str(exc))
    if json_out:
        echo_json(identity.public_json())
    else:
        typer.echo(f"hall {identity.name}: key {identity.key.key_id} made in {path}")


@app.command("show")
def show(json_out: JsonOption = False, key_file: KeyFileOption = None) -> None:
    """Print the hall's name and public key (with its proof of possession and issuer code):
    save the JSON as the file a partner passes to ``partners add --key``."""
    path = key_path(key_file)
    try:
        identity = hall_key.load(path)
    except hall_key.HallKeyError as exc:
        fail(str(exc))
    if identity is None:
        fail(f"the hall has no key yet in {path}: hall-server key init NAME")
    if json_out:
        echo_json(identity.public_json())
        return
    typer.echo(json.dumps(identity.public_json(), ensure_ascii=False, indent=1))
