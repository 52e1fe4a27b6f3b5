"""``window-client cases``: list, show and move cases."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from models.approval import ApprovalAct
from models.catalog import Catalog
from models.enums import CaseState
from models.records import CaseFilter, CaseView
from models.sync.queue import QueueFiguresRow
from models.timeliness import FLAG_ZH
from window_client.cli.case_table import cases_table
from window_client.cli.cert_cmd import sign_in_refusal, supervisor_credentials
from window_client.cli.common import EXIT_FAILED, err, fail, out, print_json, runtime, shown, storage_full
from window_client.cli.lang import current, problem_text, say
from window_client.cli.queue_view import queue_table
from window_client.services.documents import documents_for
from window_client.services.printing import print_documents
from window_client.services.runtime import parse_day
from window_client.services.staff import SignInError
from window_client.services.state_machine import STATE_ZH

app = typer.Typer(help="Cases in the local store.", no_args_is_help=True)

TodayOption = Annotated[str | None, typer.Option(help="Today's date YYYY-MM-DD, for flags.", metavar="DATE")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def case_json(case: CaseView) -> dict[str, Any]:
    """The public JSON form of a case (DESIGN.md §6); the unmasked ID is never printed."""
    data = dataclasses.asdict(case)
    data.pop("applicant_id")
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    return data


@app.command("list")
def list_cases(
    json_output: JsonOption = False,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many cases.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (paging).")] = 0,
    today: TodayOption = None,
) -> None:
    """List cases, newest first."""
    with runtime() as rt:
        if state is not None and state not in {s.value for s in CaseState}:
            raise typer.BadParameter(say("cases.unknown_state", state=state), param_hint="--state")
        day = parse_day(today)
        cases = rt.cases.list_cases(CaseFilter(state=state), day, limit, offset)
        if json_output:
            print_json({"cases": [case_json(c) for c in cases]})
            return
        out.print(cases_table(cases, out.width))


@app.command("show")
def show(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    json_output: JsonOption = False,
    documents: Annotated[bool, typer.Option("--documents", help="Print its notices/receipt.")] = False,
    today: TodayOption = None,
) -> None:
    """Show one case with its materials, history and documents."""
    with runtime() as rt:
        day = parse_day(today)
        detail = rt.cases.detail(case_no, day)
        station = rt.catalog.stations.get(detail.case.station)
        docs = documents_for(
            detail.case,
            detail.materials,
            station.name if station else detail.case.station,
            rt.ratings.code_for(detail.case.case_no),
            detail.identity,
        )
        if json_output:
            data = case_json(detail.case)
            data["materials"] = [
                {
                    k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in dataclasses.asdict(m).items()
                }
                for m in detail.materials
            ]
            data["history"] = [dataclasses.asdict(h) for h in detail.history]
            data["documents"] = [d.to_dict() for d in docs]
            identity = detail.identity
            data["identity"] = dataclasses.asdict(identity) if identity else None
            specialist = rt.assistance.specialist_for(detail.case.applicant_type, detail.case.applicant_id)
            data["specialist"] = dataclasses.asdict(specialist) if specialist else None
            data["hall"] = rt.notify.hall_view(case_no)  # the hall's 红黄绿 and 首办负责人, or null
            data["reminders"] = rt.notify.listing(case_no)  # 提醒记录
            data["crosshall"] = _crosshall(rt.catalog, detail.case.item_code)
            print_json(data)
            return
        if documents:
            for doc in docs:
                out.print(shown(doc.to_text()))
            return
        c = detail.case
        out.print(f"[bold]{shown(c.case_no)}[/]  {shown(c.item_name)}  {STATE_ZH[CaseState(c.state)]}")
        out.print(f"申请人：{shown(c.applicant_name)}（{shown(c.applicant_id_masked)}）")
        remote = _crosshall(rt.catalog, c.item_code)
        if remote is not None:
            out.print(
                f"跨区通办：异地收件，由{shown(remote['partner'])}办理（对方事项{shown(remote['partner_item'])}）"
            )
        if detail.identity is not None:
            out.print(f"身份核验：{shown(detail.identity.zh)}")
        specialist = rt.assistance.specialist_for(c.applicant_type, c.applicant_id)
        if specialist is not None:
            out.print(f"办事专员：{shown(specialist.zh)}")
        table = Table("材料", "类别", "状态", "补正期限")
        for m in detail.materials:
            table.add_row(
                shown(m.name),
                shown(m.tolerance),
                shown(m.status),
                m.supplement_due.isoformat() if m.supplement_due else "",
            )
        out.print(table)
        for h in detail.history:
            out.print(f"{shown(h.at)}  {shown(h.actor)}  {shown(h.action)}")
        _print_hall_and_reminders(rt.notify.hall_view(case_no), rt.notify.listing(case_no))


def _print_hall_and_reminders(hall: dict[str, Any] | None, reminders: list[dict[str, Any]]) -> None:
    """The hall's timeliness of the case and its 提醒记录 (under ``cases show``)."""
    if hall is not None and hall["flag"] is not None:
        due = (
            "补正中，暂停计时" if hall["paused"] else f"{hall['due_date']}（剩 {hall['days_left']} 个工作日）"
        )
        handler = f"{hall['handler_name'] or ''}（{hall['handler']}）" if hall["handler"] else "未指定"
        out.print(shown(f"大厅时效：{FLAG_ZH[hall['flag']]}  办结期限 {due}  首办负责人 {handler}"))
    if reminders:
        out.print("提醒记录：")
        for n in reminders:
            out.print(shown(f"  {n['due_on']}  {n['rule_zh']}  {n['to_masked']}  {n['status_zh']}"))


def _crosshall(catalog: Catalog, item_code: str) -> dict[str, str] | None:
    """跨区通办: the partner hall that handles the case's item (异地收件), or ``None``."""
    item = catalog.items.get(item_code)
    link = item.owner if item is not None else None
    return {"partner": link.partner, "partner_item": link.code} if link is not None else None


@app.command("print")
def print_case(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    doc: Annotated[
        str | None,
        typer.Option(
            "--doc",
            help="Only this document: receipt, tolerance_notice, commitment, one_time_notice or"
            " identity_slip (default: all of the case's documents).",
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to save the A4 page: HTML, or PDF for a .pdf name (default: documents/ in the home).",
            metavar="FILE",
        ),
    ] = None,
    printer: Annotated[
        str | None, typer.Option(help="The CUPS printer (default: the system's default destination).")
    ] = None,
) -> None:
    """Print the case's documents: save their A4 page (HTML) and send them to the printer as PDF
    with CUPS's ``lp`` where the system has it; otherwise say so and where the page is. Exit 1
    when nothing was printed."""
    with runtime() as rt:
        detail = rt.cases.detail(case_no, parse_day(None))
        station = rt.catalog.stations.get(detail.case.station)
        docs = documents_for(
            detail.case,
            detail.materials,
            station.name if station else detail.case.station,
            rt.ratings.code_for(detail.case.case_no),
            detail.identity,
        )
        if doc is not None:
            kinds = [d.kind for d in docs]
            docs = [d for d in docs if d.kind == doc]
            if not docs:
                fail(say("cases.no_document", case_no=case_no, doc=doc, kinds=", ".join(kinds)))
        try:
            result = print_documents(docs, rt.settings.home / "documents", printer, out_file)
        except OSError as exc:
            if storage_full(exc):
                raise  # the runtime reports a full disk with its own exit code
            fail(say("cases.page_not_saved", detail=exc.strerror or exc), EXIT_FAILED)
    if not result.sent:
        err.print(f"[yellow]{say('cases.warning')}[/]{shown(problem_text(result))}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    out.print(shown(problem_text(result)))


@app.command("supplement")
def supplement(
    case_no: Annotated[str, typer.Argument(help="The tolerated case.")],
    materials: Annotated[str, typer.Option(help="Material codes received, separated by ';'.")],
    nonconforming: Annotated[
        bool,
        typer.Option("--nonconforming", help="The materials do not conform: terminate the case."),
    ] = False,
    today: TodayOption = None,
) -> None:
    """Receive 补正 materials for a tolerated case (closes the ledger entry when complete).

    ``--nonconforming`` terminates the case, which a supervisor approves: set WINDOW_CLIENT_USER
    and WINDOW_CLIENT_PASSWORD to the supervisor's staff number and password."""
    staff_no, password = supervisor_credentials("purpose.nonconforming") if nonconforming else ("", "")
    with runtime() as rt:
        day = parse_day(today)
        codes = [c.strip() for c in materials.split(";") if c.strip()]
        approval = None
        if nonconforming:
            try:
                member = rt.staff.verify_supervisor(staff_no, password)
            except SignInError as exc:
                fail(sign_in_refusal(exc), EXIT_FAILED)
            approval = member.approve(ApprovalAct.TERMINATE, case_no)
        case, problem = rt.cases.supplement(
            case_no, codes, day, conforming=not nonconforming, approval=approval
        )
        state = STATE_ZH[CaseState(case.state)] if current() == "zh" else case.state
        if problem is None:
            out.print(shown(say("cases.supplemented", case_no=case.case_no, state=state)))
        else:
            line = say(
                "cases.supplemented_problem", case_no=case.case_no, state=state, problem=problem_text(problem)
            )
            out.print(shown(line))
        if case.state == CaseState.TERMINATED:
            raise typer.Exit(1)


@app.command("terminate-overdue")
def terminate_overdue(today: TodayOption = None) -> None:
    """Terminate tolerated cases whose 补正 deadline has passed (supervisor duty)."""
    with runtime() as rt:
        done = rt.cases.terminate_overdue(parse_day(today))
        listed = ("：" if current() == "zh" else ": ") + ", ".join(done) if done else ""
        out.print(shown(say("cases.terminated", count=len(done), cases=listed)))


DAY_CLOSE_COLUMNS = (
    ("accepted", "受理"),
    ("tolerated", "容缺"),
    ("not_accepted", "不予受理"),
    ("assisted", "帮办代办"),
    ("certificates_issued", "出证"),
    ("certificates_handed_over", "领取"),
    ("awaiting_handover", "待领取"),
    ("red", "红"),
    ("yellow", "黄"),
    ("green", "绿"),
    ("unsynced", "未同步"),
)


@app.command("day-close")
def day_close(
    day: Annotated[str | None, typer.Option(help="The day to close, YYYY-MM-DD (default: today).")] = None,
    json_output: JsonOption = False,
    today: TodayOption = None,
) -> None:
    """The day close (日结) per window: accepted, tolerated, not accepted and certificates of the
    day; results awaiting 领取, the 红黄绿 ledger and unsynced operations as of today."""
    with runtime() as rt:
        as_of = parse_day(today)
        figures = rt.cases.day_close(rt.station.code, parse_day(day) if day else as_of, as_of)
        if json_output:
            print_json(
                {
                    "station": figures.station,
                    "day": figures.day.isoformat(),
                    "as_of": figures.as_of.isoformat(),
                    "windows": [dataclasses.asdict(w) for w in figures.windows],
                    "totals": {k: v for k, v in dataclasses.asdict(figures.totals).items() if k != "window"},
                    "queue": [QueueFiguresRow.of(row).model_dump(mode="json") for row in figures.queue],
                }
            )
            return
        title = shown(f"{figures.day} {rt.station.name}")
        table = Table(title=title, box=None, header_style="bold underline")
        table.add_column("窗口", no_wrap=True)
        for _, label in DAY_CLOSE_COLUMNS:
            table.add_column(label, justify="right", no_wrap=True)
        for row in [*figures.windows, figures.totals]:
            name = "合计" if row is figures.totals else (f"{row.window}号" if row.window else "其他")
            table.add_row(name, *(str(getattr(row, key)) for key, _ in DAY_CLOSE_COLUMNS))
        out.print(table)
        if figures.queue:
            out.print(queue_table(figures.queue))


@app.command("states")
def states() -> None:
    """List the case states and their Chinese names."""
    for s in CaseState:
        out.print(f"{s.value}\t{STATE_ZH[s]}")
