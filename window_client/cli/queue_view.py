"""The calling board (叫号屏) as a Rich renderable: now serving per window, waiting per queue.

Kept apart from the commands so the benchmark renders exactly what ``queue board`` shows. The
board lists counts and a few numbers, never every waiting ticket, so a refresh costs the same
with 20 or 2,000 waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from models.queue import CATEGORY_ZH, STATE_ZH, QueueCategory
from models.queue_figures import Board, QueueFigures, minutes
from models.text import printable

TEXT = {
    "title": "叫号屏",
    "serving": "正在办理",
    "window": "窗口",
    "ticket": "号票",
    "state": "状态",
    "window_name": "{window}号窗口",
    "paused": "暂停服务：{reason}",
    "paused_short": "（暂停）",
    "nobody": "暂无叫号",
    "waiting": "等候人数",
    "total": "合计",
    "next_up": "请准备：{tickets}",
    "none_waiting": "当前无人等候",
    "source_local": "本地",
    "source_hall": "大厅",
    "caption": "{station} · {day} · 数据来源：{source} · 更新于 {time}",
    "fallback": "大厅无法访问，显示本站数据（{reason}）",
}
STATE_STYLE = {"called": "bold yellow", "serving": "bold green"}


def render_board(board: Board, at: dt.datetime, note: str | None = None) -> RenderableType:
    """The board as it is drawn at moment ``at``; ``note``: why the hall was not read."""
    serving = Table(title=TEXT["serving"], box=box.SIMPLE_HEAVY, expand=True, title_style="bold")
    serving.add_column(TEXT["window"], no_wrap=True)
    serving.add_column(TEXT["ticket"], no_wrap=True, style="bold")
    serving.add_column(TEXT["state"])
    for status in board.windows:
        window = TEXT["window_name"].format(window=printable(status.window))
        if status.ticket is not None and status.state is not None:
            state = Text(STATE_ZH[status.state], style=STATE_STYLE.get(status.state.value, ""))
            if status.paused:
                state.append(TEXT["paused_short"], style="red")
            serving.add_row(window, Text(printable(status.ticket)), state)
        else:
            reason = TEXT["paused"].format(reason=printable(status.reason or ""))
            serving.add_row(window, "—", Text(reason, style="red"))
    if not board.windows:
        serving.add_row("—", "—", Text(TEXT["nobody"], style="dim"))
    waiting = Table(title=TEXT["waiting"], box=box.SIMPLE_HEAVY, expand=True, title_style="bold")
    for category in QueueCategory:
        waiting.add_column(f"{category.value} {CATEGORY_ZH[category]}", justify="right")
    waiting.add_column(TEXT["total"], justify="right")
    counts = [board.waiting.get(category, 0) for category in QueueCategory]
    waiting.add_row(*(str(n) for n in counts), Text(str(sum(counts)), style="bold"))
    upcoming = (
        TEXT["next_up"].format(tickets="  ".join(printable(t) for t in board.next_up))
        if board.next_up
        else TEXT["none_waiting"]
    )
    source = TEXT["source_hall"] if board.source == "hall" else TEXT["source_local"]
    caption = TEXT["caption"].format(
        station=printable(board.station),
        day=board.day.isoformat(),
        source=source,
        time=at.astimezone().strftime("%H:%M:%S"),
    )
    parts: list[RenderableType] = [serving, waiting, Text(upcoming, style="bold")]
    if note:
        parts.append(Text(TEXT["fallback"].format(reason=printable(note)[:120]), style="yellow"))
    return Panel(Group(*parts), title=TEXT["title"], subtitle=caption)


QUEUE_COLUMNS = ("窗口", "类别", "号票", "已办结", "过号", "平均等候(分)", "P90等候(分)", "平均办理(分)")


def queue_table(rows: Sequence[QueueFigures]) -> Table:
    """The 日结's queue section: per window and category (times in minutes)."""
    table = Table(title="排队叫号", box=None, header_style="bold underline")
    for number, label in enumerate(QUEUE_COLUMNS):
        table.add_column(label, justify="left" if number < 2 else "right", no_wrap=True)
    for row in rows:
        window = TEXT["window_name"].format(window=printable(row.window)) if row.window else "未叫号"
        table.add_row(
            window, f"{row.category.value} {CATEGORY_ZH[row.category]}", str(row.tickets), str(row.served),
            str(row.skipped), minutes(row.mean_wait), minutes(row.p90_wait), minutes(row.mean_service),
        )  # fmt: skip
    return table
