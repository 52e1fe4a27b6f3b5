"""``window-client archive export|verify``: 电子档案 packages (GB/T 18894) of cases.

``archive export CASE_NO --out DIR`` (or ``--day YYYY-MM-DD``) writes one package into DIR, a
folder per case, sealed with the station's SM2 key. ``archive verify DIR [--json]`` checks every
digest and the seal: exit 0 when all hold, 1 when anything was altered, added or removed (each
named), 2 when DIR is not an archive. ``--json`` prints ``{"ok", "archive", "producer", "files",
"seal", "problems", "cases": [{"case_no", "ok", "problems": [{"kind", "path", "message"}]}]}``.

Every line for people is Chinese unless ``--lang en``; in JSON only the ``message`` strings (and
the reasons under ``broken``) follow the language, never the keys or the ``kind`` codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from models.archive.messages import KIND_ZH
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
from window_client.cli.lang import current, problem_text, say
from window_client.services.archive import ArchiveService, export_json
from window_client.services.runtime import parse_day

app = typer.Typer(help="电子档案: archive packages of cases (export, verify).", no_args_is_help=True)
SHOWN = 50  # findings printed before "... and N more"

# key -> (Chinese, English): what only these commands print (the findings and errors carry their
# own texts: models.archive.messages).
TEXT: dict[str, tuple[str, str]] = {
    "one_target": (
        "请给出一个办件编号（CASE_NO）或一个日期（--day YYYY-MM-DD），二者只取其一",
        "name one case (CASE_NO) or a day (--day YYYY-MM-DD)",
    ),
    "not_written": ("档案包未能写入：{detail}", "the package could not be written: {detail}"),
    "exported": (
        "已将 {count} 件办件归档至{out}：{files} 个文件，{size:,} 字节，已用密钥{key_id}电子签章"
        "（清单 SM3 数字摘要 {digest}…）",
        "archived {count} case(s) into {out}: {files} files, {size:,} bytes, sealed with {key_id}"
        " (manifest SM3 {digest}…)",
    ),
    "broken": (
        "警告：办件{case_no}的审计链片段不符（已按现状归档）：{problems}",
        "warning: the audit slice of {case_no} does not hold: {problems}",
    ),
    "separator": ("；", "; "),
    "intact": (
        "电子档案完好：{cases} 件办件共 {files} 个文件，数字摘要与电子签章均核验通过"
        "（密钥{key_id}，站点{station}）",
        "archive intact: {files} files in {cases} case(s), sealed by {key_id} ({station})",
    ),
    "not_intact": (
        "电子档案不完整：{archive}中发现 {count} 处问题",
        "archive NOT intact: {count} problem(s) in {archive}",
    ),
    "finding": ("  {label}（{kind}）：{message}", "  {kind}: {message}"),
    "more": ("  ……另有 {count} 处（见 --json）", "  ... and {count} more (see --json)"),
}


def _say(key: str, /, **params: Any) -> str:
    zh, en = TEXT[key]
    return (zh if current() == "zh" else en).format(**params)


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
        fail(problem_text(exc))


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
        fail(_say("one_target"))
    with runtime() as rt:
        service = ArchiveService(rt)
        try:
            cases = service.resolve(case_no, parse_day(day) if day else None)
            result = service.export(cases, out_dir, pdf=pdf)
        except NothingToArchive as exc:
            fail(problem_text(exc), EXIT_FAILED)
        except ArchiveError as exc:
            fail(problem_text(exc), EXIT_USAGE)
        except OSError as exc:
            if storage_full(exc):
                raise  # the runtime reports a full disk with its own exit code
            fail(_say("not_written", detail=exc.strerror or exc), EXIT_FAILED)
    if json_output:
        print_json(export_json(result, current()))
    else:
        done = _say(
            "exported",
            count=len(result.cases),
            out=result.out,
            files=result.files,
            size=result.size,
            key_id=result.key_id,
            digest=result.manifest_sm3[:16],
        )
        out.print(shown(done))
    for case, problems in result.broken.items():
        reasons = _say("separator").join(problem_text(p) for p in problems)
        err.print(shown(_say("broken", case_no=case, problems=reasons)))
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
                refused = {"ok": False, "archive": str(folder), "error": "not_an_archive"}
                print_json({**refused, "message": problem_text(exc)})
            fail(problem_text(exc), EXIT_USAGE)
        except OSError as exc:
            fail(say("file.unreadable", path=folder, detail=exc.strerror or exc), EXIT_USAGE)
    if json_output:
        print_json(report.to_json(current()))
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _print(report: VerifyReport) -> None:
    seal = report.seal
    if report.ok:
        intact = _say(
            "intact",
            files=report.files,
            cases=len(report.cases),
            key_id=seal.get("key_id"),
            station=seal.get("station"),
        )
        out.print(shown(intact))
        return
    findings: list[Finding] = report.findings()
    out.print(shown(_say("not_intact", count=len(findings), archive=report.archive)))
    for finding in findings[:SHOWN]:
        label = KIND_ZH.get(finding.kind, finding.kind)
        message = problem_text(finding.text)
        out.print(shown(_say("finding", label=label, kind=finding.kind, message=message)))
    if len(findings) > SHOWN:
        out.print(shown(_say("more", count=len(findings) - SHOWN)))
