"""``window-client cert`` (统一出证: issue, show, print, hand over, revoke) and ``window-client keys``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from models.certificates import HANDOVER_ZH, CertificateView
from window_client.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    fail,
    out,
    print_json,
    runtime,
    shown,
    storage_full,
)
from window_client.cli.lang import current, labels, problem_text, say
from window_client.services.certificate_print import qr_terminal, render_html, render_svg
from window_client.services.certificates import DEFAULT_VALID_YEARS, MAX_VALID_YEARS
from window_client.services.runtime import Runtime, parse_day
from window_client.services.staff import SignInError, StaffMember

app = typer.Typer(
    help="统一出证: issue, show, print, hand over and revoke certificates.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="This station's SM2 signing keys and the keys the hall published.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TodayOption = Annotated[str | None, typer.Option(help="Today's date YYYY-MM-DD.", metavar="DATE")]
RefArgument = Annotated[
    str, typer.Argument(help="A certificate identifier, or a case number with one certificate.")
]
STATUS_ZH = {"waiting": "待领取", "handed_over": "已交付", "revoked": "已撤销", "expired": "已过期"}
SIGN_IN_EN = {
    "bad_credentials": "wrong staff number or password",
    "locked": "the account is locked after repeated failures",
    "not_supervisor": "the account is not a supervisor's",
}


def supervisor_credentials(purpose: str) -> tuple[str, str]:
    """WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD, which must be a supervisor's for ``purpose``
    (a key of the CLI's texts, ``purpose.*``); a usage error when either is missing."""
    staff_no = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if not staff_no or not password:
        fail(say("supervisor.needed", purpose=say(purpose)))
    return staff_no, password


def sign_in_refusal(exc: SignInError) -> str:
    """Why a supervisor check failed, in the chosen language (the refusal's own text is Chinese)."""
    reason = exc.message if current() == "zh" else SIGN_IN_EN.get(exc.code, exc.code)
    return say("supervisor.failed", reason=reason)


def verified_supervisor(rt: Runtime, staff_no: str, password: str) -> StaffMember:
    """The supervisor re-authenticated on this station (their password derives their approval key)."""
    try:
        return rt.staff.verify_supervisor(staff_no, password)
    except SignInError as exc:
        fail(sign_in_refusal(exc), EXIT_FAILED)


def _summary(view: CertificateView) -> dict[str, Any]:
    b = view.body
    return {
        "identifier": b.identifier,
        "qr": view.qr,
        "type": b.certificate_type,
        "type_name": b.type_name,
        "holder_name": b.holder_name,
        "holder_id_masked": view.holder_id_masked,
        "issued_on": b.issued_on.isoformat(),
        "valid_until": b.valid_until.isoformat() if b.valid_until else None,
        "case_nos": list(b.case_nos),
        "key_id": b.key_id,
    }


@app.command("issue")
def issue(
    case_nos: Annotated[list[str], typer.Argument(help="The approved case (or cases of one applicant).")],
    json_output: JsonOption = False,
    valid_years: Annotated[
        int,
        typer.Option(min=0, max=MAX_VALID_YEARS, help="Years of validity; 0 for long-term (长期有效)."),
    ] = DEFAULT_VALID_YEARS,
    show_qr: Annotated[bool, typer.Option("--qr", help="Also draw the QR code in the terminal.")] = False,
    today: TodayOption = None,
) -> None:
    """Issue the certificate of an approved case, sealed with this station's SM2 key (works offline).

    The station's first key (and a key made after a revocation) must be approved by a supervisor:
    issue with WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD set to a supervisor's then, or run
    `keys rotate` as one first. ``--json`` prints {"identifier", "qr"} of the first certificate
    and "certificates" with all of them (a 一件事 case can result in several)."""
    with runtime() as rt:
        approver = None
        staff_no = os.environ.get("WINDOW_CLIENT_USER", "").strip()
        password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
        if rt.certificates.needs_key_approval() and staff_no and password:
            approver = verified_supervisor(rt, staff_no, password)
        views = rt.certificates.issue(case_nos, parse_day(today), valid_years, approver)
    if json_output:
        print_json(
            {
                "identifier": views[0].identifier,
                "qr": views[0].qr,
                "certificates": [_summary(v) for v in views],
            }
        )
        return
    for view in views:
        _print_view(view, show_qr)


def _print_view(view: CertificateView, show_qr: bool, status: str | None = None) -> None:
    b = view.body
    out.print(f"[bold]{shown(b.type_name)}[/]  {shown(b.identifier)}")
    out.print(f"持证主体：{shown(b.holder_name)}（{b.holder_id_type.zh} {shown(view.holder_id_masked)}）")
    until = b.valid_until.isoformat() if b.valid_until else "长期有效"
    out.print(f"颁发：{b.issued_on.isoformat()}  有效期至：{until}  办件：{shown('、'.join(b.case_nos))}")
    if status:
        out.print(f"状态：{shown(STATUS_ZH.get(status, status))}")
    if view.handover is not None:
        h = view.handover
        who = h.tracking_no or f"{h.collector_name}（{h.collector_id_masked}）"
        out.print(f"交付：{HANDOVER_ZH[h.kind]} {shown(who)} {h.handed_over_on.isoformat()}")
    if view.revocation is not None:
        out.print(f"撤销：{shown(view.revocation.revoked_at[:10])} {shown(view.revocation.reason)}")
    out.print(f"QR: {shown(view.qr)}")
    if show_qr:
        # Light modules are the drawn blocks: pinned light on black so any terminal theme scans.
        out.print(Text(qr_terminal(view.qr).rstrip("\n"), style="bright_white on black", no_wrap=True))


@app.command("show")
def show(
    ref: RefArgument,
    json_output: JsonOption = False,
    show_qr: Annotated[bool, typer.Option("--qr", help="Draw the QR code in the terminal.")] = False,
    record: Annotated[
        bool, typer.Option("--record", help="Print the full sealed record (unmasked ID; audited).")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Show a certificate: holder (masked), validity, cases, handover, revocation and QR text."""
    with runtime() as rt:
        day = parse_day(today)
        if record:
            print_json(rt.certificates.sealed_record(ref))
            return
        view = rt.certificates.get(ref)
    if json_output:
        print_json(view.to_dict(day))
        return
    _print_view(view, show_qr, view.status(day))


@app.command("list")
def list_certificates(
    waiting: Annotated[bool, typer.Option("--waiting", help="Only those waiting to be handed out.")] = False,
    json_output: JsonOption = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    today: TodayOption = None,
) -> None:
    """List the certificates issued at this station, newest first."""
    with runtime() as rt:
        day = parse_day(today)
        views = rt.certificates.list_issued(waiting=waiting, limit=limit)
    if json_output:
        print_json({"certificates": [v.to_dict(day) for v in views]})
        return
    table = Table("证照标识", "证照", "持证主体", "颁发日期", "状态")
    for v in views:
        table.add_row(
            shown(v.identifier), shown(v.body.type_name), shown(v.body.holder_name),
            v.body.issued_on.isoformat(), STATUS_ZH.get(v.status(day), v.status(day)),
        )  # fmt: skip
    out.print(table)


@app.command("print")
def print_form(
    ref: RefArgument,
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to save the printable A4 page.", metavar="FILE")
    ],
    form: Annotated[
        str | None, typer.Option("--format", help="html or svg (default: from the file name, else html).")
    ] = None,
) -> None:
    """Save the printable certificate (A4 HTML or SVG page with its QR code) to a file."""
    chosen = (form or ("svg" if out_file.suffix.lower() == ".svg" else "html")).lower()
    if chosen not in ("html", "svg"):
        raise typer.BadParameter(say("cert.format"), param_hint="--format")
    with runtime() as rt:
        view = rt.certificates.get(ref)
        page = render_svg(view) if chosen == "svg" else render_html(view)
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(page, encoding="utf-8")
        except OSError as exc:
            if storage_full(exc):
                raise  # the runtime answers it with exit code 3
            fail(say("cert.cannot_write", path=out_file, detail=exc.strerror or exc), EXIT_USAGE)
        rt.certificates.printed(view.identifier, chosen, str(out_file))
    out.print(shown(say("cert.saved", format=chosen.upper(), identifier=view.identifier, path=out_file)))


@app.command("handover")
def handover(
    ref: RefArgument,
    collector_id: Annotated[str | None, typer.Option(help="The collector's 身份证号 (checked).")] = None,
    collector_name: Annotated[str | None, typer.Option(help="The collector's name.")] = None,
    agent: Annotated[
        bool, typer.Option("--agent", help="Collected by an agent (代领), not the holder.")
    ] = False,
    mail: Annotated[str | None, typer.Option("--mail", help="Mailed (寄递): the tracking number.")] = None,
    today: TodayOption = None,
) -> None:
    """Record 领取 (holder or agent, ID checked) or 寄递 (tracking number) of a certificate."""
    with runtime() as rt:
        view = rt.certificates.handover(
            ref,
            parse_day(today),
            collector_id=collector_id,
            collector_name=collector_name,
            agent=agent,
            tracking_no=mail,
        )
    assert view.handover is not None
    h = view.handover
    chinese = current() == "zh"
    masked = f"（{h.collector_id_masked}）" if chinese else f" ({h.collector_id_masked})"
    who = h.tracking_no or f"{h.collector_name}{masked}"
    kind = HANDOVER_ZH[h.kind] if chinese else h.kind.value
    on = h.handed_over_on.isoformat()
    out.print(shown(say("cert.handed_over", identifier=view.identifier, kind=kind, who=who, on=on)))


@app.command("revoke")
def revoke(
    ref: RefArgument,
    reason: Annotated[str, typer.Option(help="Why the certificate is revoked.")],
) -> None:
    """Revoke a certificate (supervisor: WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD).

    Effective on this station at once; the hall receives it at the next sync and publishes it to
    every station."""
    staff_no, password = supervisor_credentials("purpose.revocation")
    with runtime() as rt:
        member = verified_supervisor(rt, staff_no, password)
        view = rt.certificates.revoke(ref, reason, member)
    out.print(shown(say("cert.revoked", identifier=view.identifier, staff_no=member.staff_no)))


@app.command("counts")
def counts(json_output: JsonOption = False, today: TodayOption = None) -> None:
    """Certificates issued and handed over today, and how many wait (the day close figures)."""
    with runtime() as rt:
        day = parse_day(today)
        figures = rt.certificates.day_counts(day)
    if json_output:
        print_json({"day": day.isoformat(), **figures})
        return
    issued, handed_over, waiting = figures["issued"], figures["handed_over"], figures["waiting"]
    out.print(
        say("cert.counts", day=day.isoformat(), issued=issued, handed_over=handed_over, waiting=waiting)
    )


@keys_app.command("list")
def list_keys(json_output: JsonOption = False) -> None:
    """List the signing keys: this station's (active and retired) and those the hall published."""
    with runtime() as rt:
        keys = rt.certificates.list_keys()
    if json_output:
        print_json(
            {
                "keys": [
                    {
                        "key_id": k.key_id,
                        "station": k.station,
                        "origin": k.origin,
                        "state": k.state,
                        "created_at": k.created_at,
                        "retired_at": k.retired_at,
                        "revoked_at": k.revoked_at,
                        "public_key": k.public_key,
                    }
                    for k in keys
                ]
            }
        )
        return
    if not keys:
        out.print(say("keys.none"))
        return
    table = Table(*labels("keys.columns"))
    for k in keys:
        table.add_row(*(shown(text) for text in (k.key_id, k.station, k.origin, k.state, k.created_at[:19])))
    out.print(table)


@keys_app.command("rotate")
def rotate() -> None:
    """Start a new signing key, approved by a supervisor (WINDOW_CLIENT_USER /
    WINDOW_CLIENT_PASSWORD); the old one is retired and still verifies what it sealed. The hall
    registers the new key at the next sync, with the approval."""
    staff_no, password = supervisor_credentials("purpose.new_key")
    with runtime() as rt:
        member = verified_supervisor(rt, staff_no, password)
        key = rt.certificates.rotate_key(member)
    out.print(shown(say("keys.rotated", key_id=key.key_id, staff_no=member.staff_no)))


@app.command("publish")
def publish(
    server: Annotated[
        str | None, typer.Option("--server", help="The hall server's URL (default: WINDOW_CLIENT_SERVER).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Register this station's signing keys and send its revocations to the hall (credentials from
    WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD). The hall publishes them to every station; run it
    after `sync` (certificates issued offline verify elsewhere once their key is published)."""
    from dataclasses import replace

    from window_client.hall_client import BadServerURL, HallError, check_server_url
    from window_client.services.certificate_publish import HttpHallCertificates

    user = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if not user or not password:
        fail(say("publish.credentials"))
    with runtime() as rt:
        try:
            url = check_server_url(server or rt.settings.server)
        except BadServerURL as exc:
            fail(problem_text(exc))
        rt.settings = replace(rt.settings, server=url)
        try:
            rt.sync.sign_in_online(user, password)
            hall = HttpHallCertificates(rt.sync.client)
            try:
                report = rt.certificates.publish(hall)
            finally:
                hall.close()
        except SignInError:
            fail(say("publish.sign_in_refused", server=url, user=user), EXIT_FAILED)
        except HallError as exc:
            fail(say("publish.stopped", message=exc.message), EXIT_FAILED)
    if json_output:
        print_json({"keys": report.keys, "revocations": report.revocations, "refused": report.refused})
    else:
        done = say("publish.done", keys=report.keys, revocations=report.revocations, server=url)
        out.print(shown(done))
        for line in report.refused:
            out.print(shown(say("publish.refused", line=line)))
    if report.refused:
        raise typer.Exit(EXIT_FAILED)
