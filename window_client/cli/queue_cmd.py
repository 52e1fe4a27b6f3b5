"""``window-client queue``: 排队叫号 for kiosks, scripts and the hall's calling board.

Contracts (README, DESIGN.md §6 style): ``queue take CATEGORY [--phone P] [--appointment REF]
[--json]`` prints ``{"ticket", "category", "taken_at"}`` (CATEGORY: A/B/V, a category's name,
or an item code, which picks 企业 or 综合); ``queue list [--json]`` prints ``{"tickets":
[{"ticket", "category", "state", "window", "taken_at", "called_at"}]}``; ``queue board`` is the
calling board (a Rich live view; ``--once`` prints it once). Exit 0 done, 1 refused (the
ticket's state does not allow it, the window is busy or paused), 2 bad usage (unknown category,
ticket or window, a malformed phone number).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer
from rich.console import RenderableType
from rich.live import Live
from rich.table import Table

from models.problems import DomainError
from models.queue import CATEGORY_ZH, STATE_ZH, QueueCategory, Ticket, TicketState
from window_client.cli.common import EXIT_FAILED, EXIT_USAGE, fail, out, print_json, runtime, shown
from window_client.cli.lang import current, problem_text
from window_client.cli.queue_view import render_board
from window_client.hall_client import BadServerURL, HallClient, check_server_url
from window_client.services.queue import QueueService
from window_client.services.queue_board import BoardMode, BoardSource, Credentials
from window_client.services.runtime import parse_day

app = typer.Typer(
    help="排队叫号: take tickets, call them, and the hall's calling board.", no_args_is_help=True
)

# Problems that mean the command was asked wrongly (exit 2); the others are refusals (exit 1).
USAGE = frozenset(
    {
        "queue.category_unknown", "queue.ticket_unknown", "queue.window_invalid", "queue.transfer_target",
        "queue.too_many_cases", "queue.reason_required", "field.invalid", "field.too_long", "phone.format",
        "case.unknown",
    }
)  # fmt: skip
CATEGORY_EN = {
    QueueCategory.GENERAL: "general",
    QueueCategory.ENTERPRISE: "enterprise",
    QueueCategory.PRIORITY: "appointment/priority",
}
# key -> (Chinese, English)
TEXT: dict[str, tuple[str, str]] = {
    "taken": ("已取号：{ticket}（{category}），{time}", "ticket {ticket} ({category}) taken at {time}"),
    "called": ("请{ticket}号到{window}号窗口", "{ticket}, please come to window {window}"),
    "nobody": ("{window}号窗口：当前没有等候的号票", "window {window}: nobody is waiting"),
    "step": ("{ticket}：{state}", "{ticket}: {state}"),
    "paused": ("{window}号窗口已暂停服务：{reason}", "window {window} paused: {reason}"),
    "resumed": ("{window}号窗口已恢复服务", "window {window} resumed"),
    "no_tickets": ("{day}没有号票", "no tickets on {day}"),
    "interval": ("刷新间隔须在0.5至3600秒之间", "the refresh interval must be 0.5 to 3600 seconds"),
    "no_credentials": (
        "读取大厅叫号屏须设置 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD",
        "set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD to read the hall's board",
    ),
}
LIST_COLUMNS = {
    "zh": ("号票", "类别", "状态", "窗口", "取号", "叫号"),
    "en": ("ticket", "category", "state", "window", "taken", "called"),
}
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WindowOption = Annotated[str, typer.Option("--window", "-w", help="The window acting (e.g. 01).")]
TicketArgument = Annotated[str, typer.Argument(help="The ticket number, e.g. A001 (today's).")]


def _say(key: str, /, **params: object) -> str:
    zh, en = TEXT[key]
    return (zh if current() == "zh" else en).format(**params)


def _category(category: QueueCategory) -> str:
    return CATEGORY_ZH[category] if current() == "zh" else CATEGORY_EN[category]


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _refused(exc: DomainError) -> NoReturn:
    fail(problem_text(exc.problem), EXIT_USAGE if exc.problem.code in USAGE else EXIT_FAILED)


def _run(action: Callable[[QueueService], Ticket | None], json_output: bool, window: str = "") -> None:
    """Run one counter step and print the ticket after it (or that nobody waits)."""
    with runtime() as rt:
        try:
            ticket = action(rt.queue)
        except DomainError as exc:
            _refused(exc)
    if json_output:
        print_json({"ticket": None if ticket is None else ticket.contract()})
    elif ticket is None:
        out.print(_say("nobody", window=shown(window)))
    elif ticket.state is TicketState.CALLED:
        out.print(_say("called", ticket=ticket.ticket, window=shown(ticket.window or "")))
    else:
        out.print(_say("step", ticket=ticket.ticket, state=STATE_ZH[ticket.state]))


@app.command("take")
def take(
    category: Annotated[
        str, typer.Argument(help="A 综合, B 企业, V 预约/绿色通道, a name, or an item code.")
    ],
    phone: Annotated[str, typer.Option("--phone", help="The applicant's mobile number.")] = "",
    appointment: Annotated[str, typer.Option("--appointment", help="预约 reference (queues as V).")] = "",
    json_output: JsonOption = False,
) -> None:
    """Take a ticket (取号): numbers run per station, day and category (A001, B001, V001)."""
    with runtime("kiosk") as rt:
        try:
            ticket = rt.queue.take(category, phone, appointment)
        except DomainError as exc:
            _refused(exc)
    if json_output:
        print_json(
            {
                "ticket": ticket.ticket,
                "category": ticket.category.value,
                "taken_at": ticket.taken_at.isoformat(),
            }
        )
        return
    out.print(
        _say("taken", ticket=ticket.ticket, category=_category(ticket.category), time=_clock(ticket.taken_at))
    )


@app.command("list")
def list_tickets(
    day: Annotated[str | None, typer.Option("--day", help="YYYY-MM-DD (default: today).")] = None,
    state: Annotated[TicketState | None, typer.Option("--state", help="Only tickets in this state.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The day's tickets in the order they were taken."""
    with runtime() as rt:
        when = parse_day(day) if day else rt.queue.today()
        tickets = rt.queue.tickets(when, [state] if state else None)
    if json_output:
        print_json({"tickets": [t.contract() for t in tickets]})
        return
    if not tickets:
        out.print(_say("no_tickets", day=when.isoformat()))
        return
    table = Table(box=None, header_style="bold underline")
    for label in LIST_COLUMNS[current()]:
        table.add_column(label, no_wrap=True)
    for t in tickets:
        called = _clock(t.called_at)[11:] if t.called_at else "-"
        table.add_row(
            t.ticket,
            _category(t.category),
            STATE_ZH[t.state],
            shown(t.window or "-"),
            _clock(t.taken_at)[11:],
            called,
        )
    out.print(table)


@app.command("call")
def call(
    window: Annotated[str, typer.Argument(help="The window calling, e.g. 01.")],
    json_output: JsonOption = False,
) -> None:
    """Call the next ticket to a window (叫号; 绿色通道 first, within limits)."""
    _run(lambda q: q.call_next(window), json_output, window)


@app.command("recall")
def recall(ticket: TicketArgument, window: WindowOption, json_output: JsonOption = False) -> None:
    """Call the window's ticket again (重呼)."""
    _run(lambda q: q.recall(ticket, window), json_output)


@app.command("start")
def start(ticket: TicketArgument, window: WindowOption, json_output: JsonOption = False) -> None:
    """The applicant is at the window: service starts."""
    _run(lambda q: q.start(ticket, window), json_output)


@app.command("skip")
def skip(ticket: TicketArgument, window: WindowOption, json_output: JsonOption = False) -> None:
    """The applicant did not come (过号)."""
    _run(lambda q: q.skip(ticket, window), json_output)


@app.command("requeue")
def requeue(ticket: TicketArgument, json_output: JsonOption = False) -> None:
    """A skipped ticket joins the queue again (过号重排)."""
    _run(lambda q: q.requeue(ticket), json_output)


@app.command("transfer")
def transfer(
    ticket: TicketArgument,
    window: WindowOption,
    to_window: Annotated[str | None, typer.Option("--to-window", help="The window to send it to.")] = None,
    to_category: Annotated[str | None, typer.Option("--to-category", help="The queue to move it to.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Send the window's ticket to another window or queue (转窗)."""
    _run(lambda q: q.transfer(ticket, window, to_window, to_category), json_output)


@app.command("finish")
def finish(
    ticket: TicketArgument,
    window: WindowOption,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="A case the visit produced (repeat).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """办结: the visit ends, with the cases it produced (none for a 咨询)."""
    _run(lambda q: q.finish(ticket, window, case or []), json_output)


@app.command("pause")
def pause(
    window: Annotated[str, typer.Argument(help="The window, e.g. 01.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown on the calling board).")],
) -> None:
    """暂停服务: the window calls nobody until it resumes."""
    with runtime() as rt:
        try:
            rt.queue.pause(window, reason)
        except DomainError as exc:
            _refused(exc)
    out.print(_say("paused", window=shown(window.strip()), reason=shown(" ".join(reason.split()))))


@app.command("resume")
def resume(window: Annotated[str, typer.Argument(help="The window, e.g. 01.")]) -> None:
    """恢复服务 after a pause."""
    with runtime() as rt:
        try:
            rt.queue.resume(window)
        except DomainError as exc:
            _refused(exc)
    out.print(_say("resumed", window=shown(window.strip())))


@app.command("board")
def board(
    once: Annotated[bool, typer.Option("--once", help="Print the board once and exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.")] = 2.0,
    source: Annotated[
        BoardMode, typer.Option("--source", help="auto: the hall when signed in and reachable, else local.")
    ] = BoardMode.AUTO,
    day: Annotated[str | None, typer.Option("--day", help="YYYY-MM-DD (default: today).")] = None,
) -> None:
    """The calling board (叫号屏) for a second screen: now serving per window, waiting per queue.
    Reads the hall with WINDOW_CLIENT_USER / WINDOW_CLIENT_PASSWORD, else (or when the hall does
    not answer) the station's store. Ctrl+C ends it."""
    if not 0.5 <= interval <= 3600:
        fail(_say("interval"))
    user = os.environ.get("WINDOW_CLIENT_USER", "").strip()
    password = os.environ.get("WINDOW_CLIENT_PASSWORD", "")
    if source is BoardMode.HALL and not (user and password):
        fail(_say("no_credentials"))
    with runtime() as rt:
        when = parse_day(day) if day else None
        client = None
        if source is not BoardMode.LOCAL and user and password:
            try:
                client = HallClient(check_server_url(rt.settings.server), timeout=5.0)
            except BadServerURL as exc:
                fail(str(exc))
        reader = BoardSource(rt.queue, client, Credentials(user, password) if client else None)
        try:
            _show(reader, when, once, interval)
        finally:
            reader.close()


def _show(reader: BoardSource, day: dt.date | None, once: bool, interval: float) -> None:
    def frame() -> RenderableType:
        shown_board = reader.read(day)
        return render_board(shown_board, dt.datetime.now(dt.UTC), reader.fallback_reason)

    if once:
        out.print(frame())
        return
    try:
        with Live(frame(), console=out, auto_refresh=False, screen=False) as live:
            while True:
                time.sleep(interval)
                live.update(frame(), refresh=True)
    except KeyboardInterrupt:
        return
