"""``window-client archive export|verify``: 电子档案 packages (GB/T 18894) of cases.

``archive export CASE_NO --out DIR`` (or ``--day YYYY-MM-DD``) writes one package into DIR, a
folder per case, sealed with the station's SM2 key. ``archive verify DIR [--json]`` checks every
digest and the seal: exit 0 when all hold, 1 when anything was altered, added or removed (each
named), 2 when DIR is not an archive. ``--json`` prints ``{"ok", "archive", "producer", "files",
"seal", "problems", "cases": [{"case_no", "ok", "problems": [{"kind", "path", "message"}]}]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.archive.verify import Finding, NotAnArchive, VerifyReport, read_key_file
from models.archive.writer import ArchiveError, NothingToArchive
from models.seal import PublicKey
from window_client.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    err,
    fail,
    out,
    print_json,
    runtime,
    shown,
    storage_full,
)
from window_client.services.archive import ArchiveService, export_json
from window_client.services.runtime import parse_day

app = typer.Typer(help="电子档案: archive packages of cases (export, verify).", no_args_is_help=True)
SHOWN = 50  # findings printed before "... and N more"

KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Also trust the public key(s) in this JSON file ({key_id, station, public_key}, e.g. the"
        " hall's from `hall-server archive key --json`).",
        metavar="FILE",
    ),
]


def _extra_keys(key: Path | None) -> dict[str, PublicKey]:
    try:
        return {} if key is None else read_key_file(key)
    except ArchiveError as exc:
        fail(str(exc))


@app.command("export")
def export(
    out_dir: Annotated[
        Path, typer.Option("--out", help="The package's folder (new or empty).", metavar="DIR")
    ],
    case_no: Annotated[str | None, typer.Argument(help="The case to archive.", show_default=False)] = None,
    day: Annotated[
        str | None, typer.Option("--day", help="Archive every case accepted on this day (YYYY-MM-DD).")
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also the documents as PDF (reportlab; ~25 ms a document).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write the 电子档案 package of CASE_NO (or of every case of --day) into --out: a folder per
    case with its record, documents, audit slice and GB/T 18894 metadata, and a manifest of SM3
    digests sealed with the station's SM2 key. Nothing is written when anything fails."""
    if (case_no is None) == (day is None):
        fail("name one case (CASE_NO) or a day (--day YYYY-MM-DD)")
    with runtime() as rt:
        service = ArchiveService(rt)
        try:
            cases = service.resolve(case_no, parse_day(day) if day else None)
            result = service.export(cases, out_dir, pdf=pdf)
        except NothingToArchive as exc:
            fail(str(exc), EXIT_FAILED)
        except ArchiveError as exc:
            fail(str(exc), EXIT_USAGE)
        except OSError as exc:
            if storage_full(exc):
                raise  # the runtime reports a full disk with its own exit code
            fail(f"the package could not be written: {exc.strerror or exc}", EXIT_FAILED)
    if json_output:
        print_json(export_json(result))
    else:
        out.print(
            shown(
                f"archived {len(result.cases)} case(s) into {result.out}: {result.files} files,"
                f" {result.size:,} bytes, sealed with {result.key_id}"
                f" (manifest SM3 {result.manifest_sm3[:16]}…)"
            )
        )
    for case, problems in result.broken.items():
        err.print(shown(f"warning: the audit slice of {case} does not hold: {'; '.join(problems)}"))
    if result.broken:
        raise typer.Exit(EXIT_FAILED)


@app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="The package's folder.", metavar="DIR")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    key: KeyOption = None,
) -> None:
    """Check a package: every file's SM3 digest, files added or removed, the seal against the keys
    this station trusts (its own and those the hall published), and each case's audit slice.
    Exit 0 when all hold, 1 when anything was altered, added or removed, 2 when DIR is not an
    archive."""
    extra = _extra_keys(key)
    with runtime() as rt:
        try:
            report = ArchiveService(rt).verify(folder, extra)
        except NotAnArchive as exc:
            if json_output:
                print_json(
                    {"ok": False, "archive": str(folder), "error": "not_an_archive", "message": str(exc)}
                )
            fail(str(exc), EXIT_USAGE)
        except OSError as exc:
            fail(f"cannot read {folder}: {exc.strerror or exc}", EXIT_USAGE)
    if json_output:
        print_json(report.to_json())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _print(report: VerifyReport) -> None:
    seal = report.seal
    if report.ok:
        out.print(
            shown(
                f"archive intact: {report.files} files in {len(report.cases)} case(s), sealed by"
                f" {seal.get('key_id')} ({seal.get('station')})"
            )
        )
        return
    findings: list[Finding] = report.findings()
    out.print(shown(f"archive NOT intact: {len(findings)} problem(s) in {report.archive}"))
    for finding in findings[:SHOWN]:
        out.print(shown(f"  {finding.kind}: {finding.message}"))
    if len(findings) > SHOWN:
        out.print(f"  ... and {len(findings) - SHOWN} more (see --json)")
