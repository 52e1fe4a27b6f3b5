"""``hall-server certs``: the back office's certificate duties (revoke, keys, verify).

Revocations made here are published through the change feed and reach every station on its
next pull.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, open_engine
from hall_server.domain.auth import BACK_OFFICE, Principal, is_supervisor_account
from hall_server.errors import ApiError
from hall_server.services.certificate_models import RevocationRequest
from hall_server.services.certificates import CertificateAuthority
from hall_server.storage import read_transaction
from models.text import printable

app = typer.Typer(
    help="Certificates: revoke, list and revoke signing keys, verify a QR text.", no_args_is_help=True
)

ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded and published).")]
ByOption = Annotated[
    str | None, typer.Option("--by", help="The supervisor's staff number (recorded as the revoker).")
]


def _principal(authority: CertificateAuthority, by: str | None) -> Principal:
    """The back office, acting for supervisor ``by`` when given (it must be one)."""
    if by:
        with read_transaction(authority.engine) as conn:
            if not is_supervisor_account(conn, by):
                fail(f"{by} is not an active supervisor account", 1)
    return Principal(staff_no=by or BACK_OFFICE, station=BACK_OFFICE, role="admin", back_office=True)


@app.command("revoke")
def revoke(identifier: str, reason: ReasonOption, by: ByOption = None, db: DbOption = None) -> None:
    """Revoke a certificate; every station learns it on its next pull."""
    authority = CertificateAuthority(open_engine(db))
    principal = _principal(authority, by)
    try:
        answer = authority.revoke_certificate(
            principal, RevocationRequest(identifier=identifier, reason=reason)
        )
    except ApiError as exc:
        fail(exc.problem.en(), 1)
    seen = authority.seen_in_operations(answer.identifier)
    note = "" if seen else " (no station has pushed this certificate yet; revoked in advance)"
    if answer.status == "known":
        typer.echo(printable(f"{answer.identifier} was already revoked on {answer.revoked_at}"))
        return
    typer.echo(printable(f"revoked {answer.identifier}{note}"))


@app.command("revoke-key")
def revoke_key(key_id: str, reason: ReasonOption, by: ByOption = None, db: DbOption = None) -> None:
    """Revoke a station's signing key (compromised): nothing it sealed verifies as valid any more."""
    authority = CertificateAuthority(open_engine(db))
    try:
        answer = authority.revoke_key(_principal(authority, by), key_id, reason)
    except ApiError as exc:
        fail(exc.problem.en(), 1)
    typer.echo(printable(f"{answer.key_id}: {answer.status}"))


@app.command("keys")
def keys(json_out: JsonOption = False, db: DbOption = None) -> None:
    """List the registered station keys."""
    found = CertificateAuthority(open_engine(db)).keys()
    if json_out:
        echo_json({"keys": [k.model_dump() for k in found]})
        return
    for k in found:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        typer.echo(f"{printable(k.key_id):<24} {printable(k.station):<8} {printable(state)}")


@app.command("revocations")
def revocations(json_out: JsonOption = False, db: DbOption = None) -> None:
    """List the revocation list."""
    found = CertificateAuthority(open_engine(db)).revocations()
    if json_out:
        echo_json({"revocations": [r.model_dump() for r in found]})
        return
    for r in found:
        typer.echo(printable(f"{r.revoked_at}  {r.identifier}  {r.reason}"))


@app.command("verify")
def verify(
    qr: str,
    json_out: JsonOption = False,
    today: Annotated[str | None, typer.Option(help="Judge expiry as of YYYY-MM-DD.")] = None,
    db: DbOption = None,
) -> None:
    """Verify a QR text against the registered keys and the revocation list (exit 0 only if valid)."""
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"not a date: {today}")
    result = CertificateAuthority(open_engine(db)).verify(qr, day)
    if json_out:
        echo_json(result.to_dict())
    else:
        typer.echo(printable(f"{result.status.value}: {result.problem.en()}"))
    raise typer.Exit(0 if result.valid else 1)
