"""Options and helpers shared by the ``hall-server`` commands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hall_server.storage import SchemaError, make_engine, migrate
from models.text import printable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765  # the client's default server (window_client.services.settings.DEFAULT_SERVER)


def server_home() -> Path:
    """``$HALL_SERVER_HOME`` or ``~/.hall-server``."""
    return Path(os.environ.get("HALL_SERVER_HOME") or Path.home() / ".hall-server").expanduser()


def default_db_url() -> str:
    """``$HALL_SERVER_DB``, or the SQLite file ``hall.db`` in :func:`server_home`."""
    return os.environ.get("HALL_SERVER_DB") or f"sqlite:///{server_home() / 'hall.db'}"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL: sqlite:///PATH or postgresql+psycopg://user@host:port/db "
        "(default: $HALL_SERVER_DB, else hall.db in $HALL_SERVER_HOME or ~/.hall-server).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` to stderr (controls shown as escapes) and exit with ``code``."""
    typer.echo(f"error: {printable(message)}", err=True)
    raise typer.Exit(code)


def shown_url(url: str) -> str:
    """A database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as typed (it is refused elsewhere)
        return url


def open_engine(db: str | None) -> Engine:
    """The migrated engine for ``--db`` (exit 2 with a message when unusable)."""
    url = db or default_db_url()
    try:
        engine = make_engine(url)
        migrate(engine)
    except (SchemaError, SQLAlchemyError, ValueError, OSError) as exc:
        fail(f"cannot open the database {shown_url(url)}: {exc}")
    return engine


@contextmanager
def using_engine(db: str | None) -> Iterator[Engine]:
    """:func:`open_engine`, disposed at the end of the block.

    Disposing closes the connections, so SQLite folds its WAL back into the database file.
    """
    engine = open_engine(db)
    try:
        yield engine
    finally:
        engine.dispose()


def echo_json(value: Any) -> None:
    """Print ``value`` as one line of JSON (Chinese kept readable)."""
    typer.echo(json.dumps(value, ensure_ascii=False))
