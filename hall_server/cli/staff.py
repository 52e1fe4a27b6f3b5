"""``hall-server staff``: the back office's duties for staff accounts (lift a sign-in lock)."""

from __future__ import annotations

import typer

from hall_server import storage
from hall_server.cli.common import DbOption, fail, using_engine
from hall_server.domain import throttle
from hall_server.storage import write_transaction

app = typer.Typer(help="Staff accounts: lift a sign-in lock.", no_args_is_help=True)


@app.command("unlock")
def unlock(staff_no: str, db: DbOption = None) -> None:
    """Lift the lock (and forget the failed sign-ins) of STAFF_NO, e.g. once the clerk who
    mistyped is identified; the lock of a client address is left to expire."""
    with using_engine(db) as engine, write_transaction(engine) as conn:
        known = storage.get_staff(conn, staff_no) is not None
        lifted = throttle.reset(conn, staff_no)
    if not known and not lifted:
        fail(f"no staff account {staff_no}", 1)
    typer.echo(f"{staff_no}: {'unlocked' if lifted else 'was not locked'}")
