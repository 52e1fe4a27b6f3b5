"""``hall-server cases list|show|decide``: the back office's view of the server's cases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hall_server.cli.common import DbOption, JsonOption, echo_json, fail, using_engine
from hall_server.services import backoffice
from models.enums import CaseState
from models.state_machine import CaseEvent
from models.text import printable
from models.timeliness import FLAG_ZH

app = typer.Typer(help="The server's cases: list, show, decide (back office).", no_args_is_help=True)


@app.command("list")
def list_cases(
    json_out: JsonOption = False,
    station: Annotated[str | None, typer.Option("--station", help="Only this station's cases.")] = None,
    state: Annotated[CaseState | None, typer.Option("--state", help="Only cases in this state.")] = None,
    db: DbOption = None,
) -> None:
    """List the server's cases, newest first, with their conflicts (lost operations)."""
    with using_engine(db) as engine:
        cases = backoffice.list_cases(engine, station, state.value if state else None)
    if json_out:
        echo_json({"cases": cases})
        return
    if not cases:
        typer.echo("no cases")
        return
    typer.echo(f"{'case_no':<24} {'state':<19} {'station':<8} {'item':<10} {'applicant':<20} conflicts")
    for case in cases:
        shown = {key: printable(case[key]) for key in ("case_no", "station", "item_code")}
        typer.echo(
            f"{shown['case_no']:<24} {case['state']:<19} {shown['station']:<8} {shown['item_code']:<10} "
            f"{printable(case['applicant_id_masked']):<20} {len(case['conflicts'])}"
        )
    typer.echo(f"{len(cases)} case(s)")


@app.command("show")
def show(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """One case with every operation the server received for it, lost and refused ones too."""
    with using_engine(db) as engine:
        case = backoffice.show_case(engine, case_no)
    if case is None:
        fail(f"no such case on the server: {case_no}")
    if json_out:
        echo_json(case)
        return
    typer.echo(
        printable(f"{case['case_no']}  {case['state']}  station {case['station']}  item {case['item_code']}")
    )
    typer.echo(printable(f"applicant {case['applicant_id_masked']}  accepted on {case['accepted_on']}"))
    _show_supervision(case)
    for op in case["operations"]:
        what = op["event"] or op["kind"]
        extra = f" (lost to {op['winner_event']} {op['winner_op_id']})" if op["fold"] == "lost" else ""
        if op["fold"] == "refused":
            extra = f" (refused: {op['code']})"
        elif op.get("approved_by"):
            extra += f" (approved by {op['approved_by']}, signature verified)"
        typer.echo(f"  #{op['server_seq']:<6} {op['op_id']:<36} {printable(what):<18} {op['fold']}{extra}")


@app.command("decide")
def decide(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    decision: Annotated[str, typer.Argument(help="approve or refuse", metavar="approve|refuse")],
    by: Annotated[str, typer.Option("--by", help="Who decides (recorded on the case).")] = "back-office",
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded on the case).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Approve or refuse a case (办结) as the back office; the station learns it at its next sync."""
    if decision not in (CaseEvent.APPROVE.value, CaseEvent.REFUSE.value):
        fail(f"the decision is approve or refuse, not {decision!r}")
    with using_engine(db) as engine:
        try:
            done = backoffice.decide(engine, case_no, CaseEvent(decision), by, reason)
        except backoffice.BackOfficeError as exc:
            fail(str(exc), exc.exit_code)
    if json_out:
        echo_json(
            {"case_no": done.case_no, "op_id": done.op_id, "event": done.event.value, "state": done.state}
        )
    else:
        typer.echo(
            printable(
                f"{done.case_no}: {done.event.value} recorded (op {done.op_id}); the case is now {done.state}"
            )
        )


def _show_supervision(case: dict[str, Any]) -> None:
    """The case's 承诺时限 (红黄绿, days left, 首办负责人) and the hall's 提醒记录."""
    timeliness = case.get("timeliness")
    if timeliness:
        paused = " (补正中, clock paused)" if timeliness["paused"] else ""
        typer.echo(
            printable(
                f"timeliness {FLAG_ZH[timeliness['flag']]} due {timeliness['due_date']}"
                f" ({timeliness['days_left']:+d} working days){paused}"
                f"  首办负责人 {timeliness['handler'] or '-'} {timeliness['handler_name'] or ''}"
            )
        )
    for n in case.get("notifications", []):
        typer.echo(printable(f"  提醒 {n['due_on']} {n['rule_zh']} → {n['to']}: {n['status_zh']}"))
