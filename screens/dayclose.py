"""日结: the supervisor's end-of-day review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from models.enums import CaseState
from screens.status import StatusBar

if TYPE_CHECKING:
    from window_client.app import WindowClientApp

TEXT: dict[str, Any] = {
    "title": "日结 · {day} · {station}",
    "rows": (
        ("受理", CaseState.ACCEPTED),
        ("容缺受理", CaseState.ACCEPTED_TOLERATED),
        ("不予受理", CaseState.NOT_ACCEPTED),
    ),
    "issued": "已出证",
    "delivered": "已领取",
    "flags": "红黄绿台账：红 {red} / 黄 {yellow} / 绿 {green}",
    "pending": "未同步操作：{pending} 项",
    "back": "返回",
    "today": "今日",
    "all": "全部",
}


class DayCloseScreen(Screen[None]):
    """Counts of the day for this station's window."""

    BINDINGS = [Binding("escape", "back", TEXT["back"], id="dayclose.back")]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="dayclose-body")
        yield Footer()

    def on_mount(self) -> None:
        """Compute the figures."""
        app: WindowClientApp = self.app  # type: ignore[assignment]
        services = app.services
        day = app.today()
        today = services.cases.state_counts(services.station.code, day)
        overall = services.cases.state_counts(services.station.code)
        table = Table(
            "",
            TEXT["today"],
            TEXT["all"],
            title=TEXT["title"].format(day=day, station=services.station.name),
        )
        for label, state in TEXT["rows"]:
            table.add_row(label, str(today.get(state, 0)), str(overall.get(state, 0)))
        issued = overall.get(CaseState.CERTIFICATE_ISSUED, 0) + overall.get(CaseState.DELIVERED, 0)
        table.add_row(TEXT["issued"], "", str(issued))
        table.add_row(TEXT["delivered"], "", str(overall.get(CaseState.DELIVERED, 0)))
        body = self.query_one("#dayclose-body", Static)
        flags = services.cases.flag_counts(day)
        from rich.console import Group
        from rich.text import Text

        body.update(
            Group(
                table,
                Text(TEXT["flags"].format(**flags)),
                Text(TEXT["pending"].format(pending=services.pending_operations())),
            )
        )

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()
