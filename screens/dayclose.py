"""日结: the supervisor's end-of-day review, per window (DESIGN §3, Day close)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.queue import CATEGORY_ZH
from models.queue_figures import minutes
from screens.context import Counter, counter
from screens.saving import save_in_background
from screens.status import StatusBar

if TYPE_CHECKING:
    from window_client.services.dayclose import DayClose, DayCloseRow
    from window_client.services.runtime import Runtime

TEXT: dict[str, Any] = {
    "title": "日结 · {day}{weekday} · {station}",
    "weekdays": "一二三四五六日",
    "columns": (
        ("窗口", "window"),
        ("受理", "accepted"),
        ("容缺", "tolerated"),
        ("不予受理", "not_accepted"),
        ("帮办", "assisted"),
        ("出证", "certificates_issued"),
        ("领取", "certificates_handed_over"),
        ("待领取", "awaiting_handover"),
        ("红", "red"),
        ("黄", "yellow"),
        ("绿", "green"),
        ("未同步", "unsynced"),
    ),
    "window": "{window}号",
    "no_window": "其他",
    "totals": "合计",
    "note": "受理至领取、帮办（帮办代办）为当日数；待领取、红黄绿台账、未同步为截至{as_of}的当前数。",
    "refused": "另有被服务端退回的操作 {refused} 项，请在同步页处理。",
    "empty": "本日没有办件，也没有待处理事项。",
    "previous": "前一日",
    "next": "后一日",
    "today": "今日",
    "save": "保存",
    "back": "返回",
    "saved": "日结单已保存：{path}",
    "sheet_title": "日结单 · {day} · {station}",
    "queue_title": "排队叫号",
    "queue_columns": (
        ("窗口", "window"),
        ("类别", "category"),
        ("号票", "tickets"),
        ("已办结", "served"),
        ("过号", "skipped"),
        ("平均等候(分)", "mean_wait"),
        ("P90等候(分)", "p90_wait"),
        ("平均办理(分)", "mean_service"),
    ),
    "not_called": "未叫号",
}
COLOURS = {"red": "bold red", "yellow": "bold yellow", "green": "green"}


class DayCloseScreen(Screen[None]):
    """The day's figures of this station, one row per window and the totals."""

    BINDINGS = [
        Binding("f5", "day(-1)", TEXT["previous"], id="dayclose.previous", tooltip="查看前一日的日结"),
        Binding("f6", "day(1)", TEXT["next"], id="dayclose.next", tooltip="查看后一日的日结"),
        Binding("f7", "today", TEXT["today"], id="dayclose.today", tooltip="回到今日"),
        Binding("f8", "save", TEXT["save"], id="dayclose.save", tooltip="日结单保存为文本文件，供打印"),
        Binding("escape", "back", TEXT["back"], id="dayclose.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day: dt.date | None = None
        self.figures: DayClose | None = None

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="dayclose-title", classes="section-title")
        yield DataTable(id="dayclose-table", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="dayclose-queue", cursor_type="row", zebra_stripes=True)
        yield Static("", id="dayclose-note", classes="hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Today's figures; the cursor in the table."""
        table = self.query_one("#dayclose-table", DataTable)
        for label, key in TEXT["columns"]:
            table.add_column(label, key=key)
        for label, key in TEXT["queue_columns"]:
            self.query_one("#dayclose-queue", DataTable).add_column(label, key=key)
        self.day = self.app_.today()
        self.reload()
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No day close of the future."""
        if action == "day" and parameters and int(str(parameters[0])) > 0:
            return None if self.day is None or self.day >= self.app_.today() else True
        return True

    @dataclass
    class Loaded(Message):
        """The figures of a day, as a worker read them."""

        figures: DayClose
        refused: int

    def reload(self) -> None:
        """Read the figures of :attr:`day` (a handful of indexed queries) in a worker."""
        today = self.app_.today()
        self._load(self.app_.services, self.day or today, today)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dayclose", name="day close")
    def _load(self, services: Runtime, day: dt.date, today: dt.date) -> None:
        figures = services.cases.day_close(services.station.code, day, today)
        self.post_message(self.Loaded(figures, services.refused_operations()))

    def on_day_close_screen_loaded(self, message: Loaded) -> None:
        """Show the figures (unless the clerk has moved to another day meanwhile)."""
        figures = message.figures
        if figures.day != (self.day or self.app_.today()):
            return
        self.figures = figures
        station = self.app_.services.station.name
        weekday = f"（周{TEXT['weekdays'][figures.day.weekday()]}）"
        self.query_one("#dayclose-title", Static).update(
            Text(TEXT["title"].format(day=figures.day.isoformat(), weekday=weekday, station=station))
        )
        table = self.query_one("#dayclose-table", DataTable)
        table.clear()
        for row in figures.windows:
            table.add_row(*self._cells(row, self._window_label(row.window)), key=row.window or "-")
        table.add_row(*self._cells(figures.totals, TEXT["totals"], bold=True), key="totals")
        self._show_queue(figures)
        note = TEXT["note"].format(as_of=figures.as_of.isoformat())
        if not figures.windows:
            note = TEXT["empty"] + "\n" + note
        if message.refused:
            note += "\n" + TEXT["refused"].format(refused=message.refused)
        self.query_one("#dayclose-note", Static).update(Text(note))
        self.refresh_bindings()

    def _show_queue(self, figures: DayClose) -> None:
        """The day's queue per window and category; hidden on a day without tickets."""
        table = self.query_one("#dayclose-queue", DataTable)
        table.clear()
        for row in _queue_rows(figures):
            table.add_row(*(Text(cell, justify="left" if n < 2 else "right") for n, cell in enumerate(row)))
        table.display = bool(figures.queue)

    @staticmethod
    def _window_label(window: str) -> str:
        return str(TEXT["window"].format(window=window) if window else TEXT["no_window"])

    @staticmethod
    def _cells(row: DayCloseRow, label: str, bold: bool = False) -> list[Text]:
        cells = [Text(label, style="bold" if bold else "")]
        for _, key in TEXT["columns"][1:]:
            value = getattr(row, key)
            style = COLOURS.get(key, "") if value else "dim"
            cells.append(Text(str(value), style=f"{style} bold" if bold else style, justify="right"))
        return cells

    def action_day(self, step: int) -> None:
        """Another day's close."""
        base = self.day or self.app_.today()
        self.day = min(base + dt.timedelta(days=step), self.app_.today())
        self.reload()

    def action_today(self) -> None:
        """Back to today."""
        self.day = self.app_.today()
        self.reload()

    def action_save(self) -> None:
        """Write the day close as a text sheet beside the station's data (for printing), in a
        worker."""
        figures = self.figures
        if figures is None:
            return
        services = self.app_.services
        labels = [label for label, _ in TEXT["columns"]]
        lines = [TEXT["sheet_title"].format(day=figures.day, station=services.station.name), ""]
        lines.append("\t".join(labels))
        for row in [*figures.windows, figures.totals]:
            name = self._window_label(row.window) if row is not figures.totals else TEXT["totals"]
            lines.append("\t".join([name, *(str(getattr(row, key)) for _, key in TEXT["columns"][1:])]))
        if figures.queue:
            lines += ["", TEXT["queue_title"], "\t".join(label for label, _ in TEXT["queue_columns"])]
            lines += ["\t".join(row) for row in _queue_rows(figures)]
        lines += ["", TEXT["note"].format(as_of=figures.as_of.isoformat())]
        filename = f"日结-{figures.day.isoformat()}.txt"
        folder = services.settings.home / "documents"
        save_in_background(self, folder, filename, lines, TEXT["saved"])

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()


def _queue_rows(figures: DayClose) -> list[list[str]]:
    """The queue section's cells (times in minutes)."""
    rows = []
    for row in figures.queue:
        window = str(TEXT["window"].format(window=row.window)) if row.window else str(TEXT["not_called"])
        category = f"{row.category.value} {CATEGORY_ZH[row.category]}"
        counts = [str(row.tickets), str(row.served), str(row.skipped)]
        times = [minutes(row.mean_wait), minutes(row.p90_wait), minutes(row.mean_service)]
        rows.append([window, category, *counts, *times])
    return rows
