"""``hall-server serve``: run the service with uvicorn."""

from __future__ import annotations

import gc
import logging
import socket
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from hall_server.app import create_app
from hall_server.cli.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DbOption,
    default_db_url,
    fail,
    server_home,
    shown_url,
)
from hall_server.domain.reference import ReferenceDataError
from hall_server.http import JsonErrorHttpTools
from hall_server.services import hall_key
from hall_server.services.forwarder import DEFAULT_INTERVAL
from hall_server.services.hall import DEFAULT_TOKEN_TTL_SECONDS
from hall_server.services.sweeper import DEFAULT_INTERVAL_SECONDS as SWEEP_INTERVAL_SECONDS
from hall_server.storage import SchemaError
from models.identity import load_region_codes

HostOption = Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")]
PortOption = Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")]
CatalogOption = Annotated[
    Path | None,
    typer.Option("--catalog", help="Catalogue served before one is published (default: the shipped copy)."),
]
TtlOption = Annotated[int, typer.Option("--token-ttl", min=1, help="Token lifetime in seconds.")]
UrlFileOption = Annotated[
    Path | None, typer.Option("--url-file", help="Write the server's URL here once it listens (for scripts).")
]


def tune_gc() -> None:
    """Make CPython's cyclic garbage collector cheap for a server that reads large batches.

    A 2,000-operation push holds some 150,000 containers alive at once (payloads, rows, changes),
    all acyclic and freed by reference counting when the batch ends; with the default gen-0
    threshold (700) the collector would run hundreds of times per batch, rescanning them all.
    ``gc.freeze()`` moves what startup allocated (modules, the app) out of the collector's view,
    and a gen-0 threshold above a batch's live containers lets a batch finish before the
    collector looks. Cycles are still collected, at the next collection after the batch.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 20, 20)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # A restarted server gets its port back while old connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


ForwardOption = Annotated[
    float,
    typer.Option(
        "--forward-every", min=0, help="Seconds between rounds of the partner-hall outbox (0: never)."
    ),
]


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db: str | None = None,
    catalog: Path | None = None,
    token_ttl: int = DEFAULT_TOKEN_TTL_SECONDS,
    url_file: Path | None = None,
    forward_every: float = DEFAULT_INTERVAL,
) -> None:
    """Build the app, bind the port, announce the URL and serve until stopped."""
    url = db or default_db_url()
    try:
        identity = hall_key.load(hall_key.default_path(server_home()))
        app = create_app(
            url,
            token_ttl_seconds=token_ttl,
            catalog_path=catalog,
            timeliness_interval=SWEEP_INTERVAL_SECONDS,
            identity=identity,
            forward_every=forward_every or None,
        )
    except hall_key.HallKeyError as exc:
        fail(str(exc))
    except (SchemaError, ReferenceDataError, SQLAlchemyError, OSError, ValueError) as exc:
        fail(f"cannot start on {shown_url(url)}: {exc}")
    try:
        sock = _listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    bound = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    address = f"http://{shown_host}:{bound}"
    if url_file is not None:
        temporary = url_file.with_name(url_file.name + ".tmp")
        temporary.write_text(address + "\n", encoding="utf-8")
        temporary.replace(url_file)
    typer.echo(f"hall-server listening on {address} (database: {shown_url(url)})", err=False)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Reference data every accept check reads, loaded before the first push (and frozen with
    # the rest of start-up by tune_gc).
    load_region_codes()
    tune_gc()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=5, http=JsonErrorHttpTools
    )
    uvicorn.Server(config).run(sockets=[sock])


def command(
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    db: DbOption = None,
    catalog: CatalogOption = None,
    token_ttl: TtlOption = DEFAULT_TOKEN_TTL_SECONDS,
    url_file: UrlFileOption = None,
    forward_every: ForwardOption = DEFAULT_INTERVAL,
) -> None:
    """Run the hall server (default: http://127.0.0.1:8765, SQLite in ~/.hall-server); with a
    hall key (``key init``), it also runs the partner-hall outbox every --forward-every seconds."""
    serve(host, port, db, catalog, token_ttl, url_file, forward_every)
