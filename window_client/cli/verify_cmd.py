"""``window-client verify TEXT_OR_FILE``: check a certificate offline with the cached public keys.

Exit codes (DESIGN.md §6): 0 only for a valid certificate, 1 for any other answer, 2 when the
input cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from models.certificates import QR_PREFIX, VERIFY_STATUS_ZH, Verification, is_compact_text
from window_client.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, out, print_json, runtime, shown
from window_client.cli.lang import current, problem_text, say
from window_client.services.runtime import parse_day

MAX_INPUT_BYTES = 4 * 1024 * 1024
_FILE_SUFFIXES = (".html", ".htm", ".svg", ".txt", ".json", ".qr")


def _read_input(arg: str) -> tuple[str, bool, str]:
    """(text, is_document, source) of the argument: ``-`` is stdin, an existing path a file."""
    if arg == "-":
        return sys.stdin.read(MAX_INPUT_BYTES), True, "stdin"
    if not arg.strip() or arg.strip().startswith(QR_PREFIX) or is_compact_text(arg):
        return arg, False, "text"
    path = Path(arg)
    try:
        is_file = len(arg) < 4096 and path.exists()
    except (OSError, ValueError):
        is_file = False
    if is_file:
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            fail(say("file.unreadable", path=arg, detail=exc.strerror or exc), EXIT_USAGE)
        if len(raw) > MAX_INPUT_BYTES:
            fail(say("verify.too_large", path=arg, mib=MAX_INPUT_BYTES // (1024 * 1024)), EXIT_USAGE)
        # Undecodable bytes become U+FFFD: random bytes are then simply not a certificate.
        return raw.decode("utf-8", errors="replace"), True, "file"
    if path.suffix.lower() in _FILE_SUFFIXES or "/" in arg:
        fail(say("file.missing", path=arg), EXIT_USAGE)
    return arg, False, "text"


def verify(
    text_or_file: Annotated[
        str,
        typer.Argument(help="The QR text, a file holding it (a saved page, a scan), a sealed record, or -."),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    today: Annotated[str | None, typer.Option(help="Judge expiry as of YYYY-MM-DD.", metavar="DATE")] = None,
) -> None:
    """Verify a certificate offline: valid / altered / unknown_key / revoked / expired / malformed.

    Uses the public keys and revocations cached from the hall (and this station's own keys);
    every verification is audited. Exit 0 only when valid, 1 otherwise, 2 for unreadable input."""
    text, document, source = _read_input(text_or_file)
    with runtime() as rt:
        result = rt.certificates.verify(text, parse_day(today), document=document, source=source)
    if json_output:
        print_json(result.to_dict())
    else:
        _print_result(result)
    raise typer.Exit(EXIT_OK if result.valid else EXIT_FAILED)


def _print_result(result: Verification) -> None:
    """The answer and, for a certificate that was sealed here or by a known key, what it says."""
    data = result.to_dict()
    status = say("verify.status", status=result.status.value, zh=VERIFY_STATUS_ZH[result.status])
    separator = "：" if current() == "zh" else ": "
    out.print(f"[bold]{status}[/]{separator}{shown(problem_text(result.problem))}")
    if result.payload is None or result.status.value not in ("valid", "revoked", "expired"):
        return
    p = result.payload
    out.print(shown(say("verify.identifier", value=p.identifier)))
    out.print(shown(say("verify.type", value=str(data.get("type_name", data.get("type_code", ""))))))
    holder = say("verify.holder", name=p.holder_name, id_type=p.holder_id_type.zh, id=p.holder_id_masked)
    out.print(shown(holder))
    until = p.valid_until.isoformat() if p.valid_until else say("verify.long_term")
    out.print(say("verify.valid", issued=p.issued_on.isoformat(), until=until))
    out.print(shown(say("verify.sealed", key=p.key_id, station=data.get("station", ""))))
