"""``window-client notify run|list``: the station's reminders (补正 due, result ready for pick-up).

``run [--dry-run] [--today D] [--json]``: queue what the rules ask for and send every pending
notification through the ``[notify]`` sender (each exactly once); exit 0 all sent, 1 some could
not be sent (kept with the reason, tried again at the next run), 2 an unusable ``[notify]``
(an unknown sender, a gateway URL that is not http(s)) — then nothing is queued or sent.
``list [--case CASE_NO] [--status S] [--json]``: the outbox, phones masked.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from models.notify import NotifyConfigError, RunBusy, Status
from window_client.cli.common import EXIT_FAILED, err, fail, out, print_json, runtime, shown
from window_client.cli.lang import current
from window_client.services.runtime import parse_day

app = typer.Typer(help="Reminders (短信提醒): 补正 due, result ready for pick-up.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
# key -> (Chinese, English): what only this command prints.
TEXT: dict[str, tuple[str, str]] = {
    "config": ("提醒配置有误：{detail}", "notification settings cannot be used: {detail}"),
    "busy": (
        "另一次提醒发送正在进行，请稍后再试",
        "another notify run is in progress; try again when it has finished",
    ),
    "summary": (
        "{verb}{generated} 条，已发送 {sent} 条，失败 {failed} 条（{sender}）；待发送 {pending} 条",
        "{verb} {generated}, sent {sent}, failed {failed} via {sender}; {pending} pending",
    ),
    "queued": ("新生成 ", "queued"),
    "would": ("将生成 ", "would queue"),
    "not_sent": ("未发送 {key}：{error}（下次重试）", "not sent {key}: {error} (tried again next run)"),
    "columns": ("状态|到期日|办件编号|接收人|提醒", "status|due|case|to|rule"),
    "count": ("共 {count} 条提醒", "{count} notification(s)"),
}


def _say(name: str, /, **params: Any) -> str:
    zh, en = TEXT[name]
    return (zh if current() == "zh" else en).format(**params)


@app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be queued; send none.")] = False,
    today: Annotated[str | None, typer.Option(help="The day the rules look at (YYYY-MM-DD).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Queue the reminders due today and send every pending one (each exactly once)."""
    with runtime() as rt:
        day = parse_day(today)
        try:
            report = rt.notify.run(day, dry_run)
        except NotifyConfigError as exc:
            fail(_say("config", detail=exc.zh if current() == "zh" else str(exc)))
        except RunBusy:
            fail(_say("busy"), EXIT_FAILED)
    if json_output:
        print_json(report.to_json())
    else:
        verb = _say("would" if dry_run else "queued")
        out.print(
            _say(
                "summary",
                verb=verb,
                generated=len(report.generated),
                sent=len(report.sent),
                failed=len(report.failed),
                sender=report.sender,
                pending=report.pending,
            )
        )
        for failure in report.failed:
            err.print(shown(_say("not_sent", key=failure["key"], error=failure["error"])), soft_wrap=True)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("list")
def list_notifications(
    case: Annotated[str | None, typer.Option("--case", help="Only this case's.")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only in this status.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The station's notification outbox, oldest first (phones masked)."""
    with runtime() as rt:
        found = rt.notify.listing(case, status.value if status else None)
    if json_output:
        print_json({"notifications": found})
        return
    table = Table(*_say("columns").split("|"))
    for n in found:
        label = n["status_zh"] if current() == "zh" else n["status"]
        table.add_row(label, n["due_on"], shown(n["case_no"]), shown(n["to_masked"]), n["rule_zh"])
    out.print(table)
    out.print(_say("count", count=len(found)))
