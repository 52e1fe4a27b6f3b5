"""The ``window-client`` command: a thin Typer layer over the services."""

from __future__ import annotations

import typer

from window_client.cli import (
    admin_cmd,
    archive_cmd,
    audit_cmd,
    batch_cmd,
    cases_cmd,
    catalog_cmd,
    cert_cmd,
    notify_cmd,
    queue_cmd,
    ratings_cmd,
    specialist_cmd,
    sync_cmd,
    verify_cmd,
)
from window_client.cli.common import LangOption, choose_language

app = typer.Typer(
    name="window-client",
    help="全科综合窗口 client: accept cases, 容缺受理, batch acceptance, audit.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    epilog="Exit codes: 0 done; 1 some rows or checks failed; 2 bad usage or unreadable input;"
    " 3 the disk is full (nothing saved is lost: free some space and run the command again).",
)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(batch_cmd.app, name="batch")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(audit_cmd.audit_app, name="audit")
app.add_typer(admin_cmd.calendar_app, name="calendar")
app.add_typer(cert_cmd.app, name="cert")
app.add_typer(cert_cmd.keys_app, name="keys")
app.command("verify")(verify_cmd.verify)
app.add_typer(sync_cmd.app, name="sync")
app.command("evaluate")(ratings_cmd.evaluate)
app.add_typer(ratings_cmd.app, name="ratings")
app.add_typer(specialist_cmd.app, name="specialist")
app.add_typer(archive_cmd.app, name="archive")
app.add_typer(queue_cmd.app, name="queue")
app.add_typer(notify_cmd.app, name="notify")


@app.callback(invoke_without_command=True)
def default(ctx: typer.Context, lang: LangOption = None) -> None:
    """Without a command: the counter (TUI). A new station gets the demo staff accounts and the
    bundled sample cases first, so there is something to see. ``--lang`` (before the command)
    picks the language of messages and reasons: Chinese unless WINDOW_CLIENT_LANG or an
    English locale says otherwise."""
    choose_language(lang)
    if ctx.invoked_subcommand is None:
        from window_client.cli.demo import run_counter

        run_counter()


@app.command("demo")
def demo() -> None:
    """The one-command demo: a demo hall server on 127.0.0.1 (its database demo-hall.db in the
    data directory; none when WINDOW_CLIENT_SERVER or config.toml names a hall) and the counter
    with sample cases in every state. The server stops when the counter exits."""
    from window_client.cli.demo import run_demo

    run_demo()


@app.command("sample")
def sample() -> None:
    """Accept the bundled sample batch into the local store (re-runs accept nothing twice)."""
    from window_client.cli.demo import run_sample_batch

    run_sample_batch()


def main() -> None:
    """Console-script entry point."""
    app()
