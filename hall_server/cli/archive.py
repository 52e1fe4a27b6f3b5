"""``hall-server archive export|verify|key``: the hall's 电子档案 packages (GB/T 18894).

The same contract as ``window-client archive``: ``export CASE_NO|--day D --out DIR``; ``verify DIR
[--json]`` exits 0 when every digest and the seal check, 1 when anything was altered, added or
removed (each named), 2 when DIR is not an archive. ``key [--json]`` prints the public half of
the hall's archive key (for ``window-client archive verify --key FILE``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, server_home, using_engine
from hall_server.services import archive as service
from hall_server.services import hall_key
from models.archive.verify import NotAnArchive, VerifyReport, public_key_json, read_key_file
from models.archive.writer import ArchiveError, NothingToArchive, check_target
from models.seal import PublicKey
from models.text import printable

app = typer.Typer(
    help="电子档案: archive packages of the hall's cases (export, verify, key).", no_args_is_help=True
)
SHOWN = 50

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="The hall's key (default: hall-key.json, or an older archive-key.json, in $HALL_SERVER_HOME"
        " or ~/.hall-server; made on the first export).",
        show_default=False,
    ),
]


def _key_path(key_file: Path | None) -> Path:
    return key_file or hall_key.default_path(server_home())


@app.command("export")
def export(
    out_dir: Annotated[
        Path, typer.Option("--out", help="The package's folder (new or empty).", metavar="DIR")
    ],
    case_no: Annotated[str | None, typer.Argument(help="The case to archive.", show_default=False)] = None,
    day: Annotated[
        str | None, typer.Option("--day", help="Every case accepted on this day (YYYY-MM-DD).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who archives (recorded in the metadata).")] = "back-office",
    json_out: JsonOption = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Write the package of CASE_NO (or of every case of --day) into --out: a folder per case with
    its record, every operation the hall received for it and GB/T 18894 metadata, and a manifest
    of SM3 digests sealed with the hall's archive key. Nothing is written when anything fails."""
    if (case_no is None) == (day is None):
        fail("name one case (CASE_NO) or a day (--day YYYY-MM-DD)")
    try:
        on = dt.date.fromisoformat(day) if day else None
    except ValueError:
        fail(f"--day is YYYY-MM-DD, not {day!r}")
    with using_engine(db) as engine:
        try:
            cases = service.resolve(engine, case_no, on)
            check_target(out_dir)
            key = service.hall_key(_key_path(key_file), create=True)
            assert key is not None
            done = service.export_cases(engine, cases, out_dir, key, by)
        except NothingToArchive as exc:
            fail(str(exc), 1)
        except ArchiveError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"the package could not be written: {exc.strerror or exc}", 1)
    if json_out:
        echo_json(done.to_json())
        return
    typer.echo(
        printable(
            f"archived {len(done.cases)} case(s) into {done.out}: {done.files} files, {done.size:,} bytes,"
            f" sealed with {done.key_id}"
        )
    )


@app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="The package's folder.", metavar="DIR")],
    json_out: JsonOption = False,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Also trust the public key(s) in this JSON file.", metavar="FILE"),
    ] = None,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Check a package (the hall's or a station's): every SM3 digest, files added or removed, and
    the seal against the hall's archive key and the station keys registered here. Exit 0 when
    all hold, 1 when anything was altered, added or removed, 2 when DIR is not an archive."""
    try:
        extra = read_key_file(key) if key else {}
        own = service.hall_key(_key_path(key_file), create=False)
    except ArchiveError as exc:
        fail(str(exc))
    with using_engine(db) as engine:
        try:
            report = service.verify(engine, folder, own.public() if own else None, extra)
        except NotAnArchive as exc:
            if json_out:
                echo_json(
                    {"ok": False, "archive": str(folder), "error": "not_an_archive", "message": str(exc)}
                )
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot read {folder}: {exc.strerror or exc}")
    if json_out:
        echo_json(report.to_json())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: VerifyReport) -> None:
    if report.ok:
        seal = report.seal
        typer.echo(
            printable(
                f"archive intact: {report.files} files in {len(report.cases)} case(s), sealed by"
                f" {seal.get('key_id')} ({seal.get('station')})"
            )
        )
        return
    findings = report.findings()
    typer.echo(printable(f"archive NOT intact: {len(findings)} problem(s) in {report.archive}"))
    for finding in findings[:SHOWN]:
        typer.echo(printable(f"  {finding.kind}: {finding.message}"))
    if len(findings) > SHOWN:
        typer.echo(f"  ... and {len(findings) - SHOWN} more (see --json)")


@app.command("key")
def key(json_out: JsonOption = False, key_file: KeyFileOption = None) -> None:
    """Print the public half of the hall's archive key (made now if the hall has none), to give
    to whoever verifies the hall's packages elsewhere."""
    path = _key_path(key_file)
    try:
        pair = service.hall_key(path, create=True)
    except ArchiveError as exc:
        fail(str(exc))
    assert pair is not None
    public: dict[str, str] = public_key_json(PublicKey(pair.key_id, pair.station, pair.public_hex))
    if json_out:
        echo_json(public)
        return
    typer.echo(json.dumps(public, ensure_ascii=False, indent=1))
    typer.echo(f"(kept in {os.fspath(path)}; save the JSON above as a file for `--key FILE`)", err=True)
