"""``window-client specialist``: an enterprise's 办事专员 (assign and remove: supervisors only)."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from models.identity_check import Specialist
from models.problems import DomainError
from window_client.cli.common import EXIT_FAILED, EXIT_USAGE, fail, out, print_json, runtime, shown
from window_client.cli.lang import current, problem_text
from window_client.services.runtime import Runtime
from window_client.services.staff import SignInError, StaffMember

app = typer.Typer(
    help="办事专员: the dedicated staff member of an enterprise (材料只交一次，沟通只对一人).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CodeArgument = Annotated[str, typer.Argument(help="The enterprise's 统一社会信用代码.")]
# key -> (Chinese, English): what only this command prints.
TEXT: dict[str, tuple[str, str]] = {
    "credentials": (
        "指派办事专员须由值班长操作：请设置 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD",
        "assigning a dedicated officer needs a supervisor: set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD",
    ),
    "not_supervisor": ("值班长核验未通过：{reason}", "supervisor check failed: {reason}"),
    "assigned": ("已指派：{code} 的办事专员为 {who}", "assigned: {who} is the dedicated officer of {code}"),
    "removed": ("已取消 {code} 的办事专员", "{code} no longer has a dedicated officer"),
    "none": ("尚未指派任何办事专员", "no dedicated officer is assigned"),
    "columns": ("统一社会信用代码|办事专员|指派人|指派时间", "credit code|officer|assigned by|assigned at"),
}
# Bad input (exit 2) as opposed to a refusal (exit 1).
_USAGE = frozenset({"uscc.length", "uscc.format", "uscc.check", "specialist.not_org"})


def _say(key: str, **params: Any) -> str:
    zh, en = TEXT[key]
    return (zh if current() == "zh" else en).format(**params)


def _supervisor(rt: Runtime) -> StaffMember:
    """The supervisor named by WINDOW_CLIENT_USER, re-authenticated with WINDOW_CLIENT_PASSWORD."""
    staff_no = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if not staff_no or not password:
        fail(_say("credentials"))
    try:
        return rt.staff.verify_supervisor(staff_no, password)
    except SignInError as exc:
        reason = exc.message if current() == "zh" else exc.code
        fail(_say("not_supervisor", reason=reason), EXIT_FAILED)


def _refused(exc: DomainError) -> None:
    fail(problem_text(exc.problem), EXIT_USAGE if exc.problem.code in _USAGE else EXIT_FAILED)


@app.command("assign")
def assign(
    credit_code: CodeArgument,
    staff: Annotated[str, typer.Argument(help="The staff number of the officer (this station's).")],
    json_output: JsonOption = False,
) -> None:
    """Make STAFF the enterprise's 办事专员, replacing any earlier one (a supervisor:
    WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD). Exit 1 for an unknown staff member or a
    refused supervisor, 2 for a credit code that is not valid."""
    with runtime() as rt:
        supervisor = _supervisor(rt)
        try:
            found = rt.assistance.assign(credit_code, staff, supervisor)
        except DomainError as exc:
            _refused(exc)
        if json_output:
            print_json(dataclasses.asdict(found))
            return
        out.print(shown(_say("assigned", code=found.credit_code, who=found.zh)))


@app.command("remove")
def remove(credit_code: CodeArgument) -> None:
    """The enterprise no longer has a 办事专员 (a supervisor, as for ``assign``)."""
    with runtime() as rt:
        supervisor = _supervisor(rt)
        try:
            rt.assistance.remove(credit_code, supervisor)
        except DomainError as exc:
            _refused(exc)
        out.print(shown(_say("removed", code=credit_code.strip().upper())))


@app.command("list")
def list_specialists(json_output: JsonOption = False) -> None:
    """Every enterprise with a 办事专员: ``--json`` prints ``{"specialists": [{"credit_code",
    "staff_no", "staff_name", "assigned_by", "assigned_at"}]}``."""
    with runtime() as rt:
        found = rt.assistance.specialists()
    if json_output:
        print_json({"specialists": [dataclasses.asdict(s) for s in found]})
        return
    if not found:
        out.print(_say("none"))
        return
    table = Table(*_say("columns").split("|"), box=None, header_style="bold underline")
    for s in found:
        table.add_row(*_row(s))
    out.print(table)


def _row(s: Specialist) -> tuple[str, str, str, str]:
    return shown(s.credit_code), shown(s.zh), shown(s.assigned_by), shown(s.assigned_at)
