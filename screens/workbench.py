"""工作台: today's cases at this window, the 红黄绿 counts and the queue of waiting work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.enums import CaseState
from offline_cache.repositories import CaseFilter
from screens.status import StatusBar
from window_client.services.state_machine import STATE_ZH

if TYPE_CHECKING:
    from window_client.app import WindowClientApp

TEXT: dict[str, Any] = {
    "accept": "受理",
    "ledger": "容缺台账",
    "find": "查找办件",
    "refresh": "刷新",
    "dayclose": "日结",
    "lock": "锁屏",
    "signout": "退出登录",
    "today": "今日办件（{count}件）",
    "flags": "红 {red}  黄 {yellow}  绿 {green}",
    "queue": "待补正 {tolerated} 件 · 待领取 {handout} 件",
    "columns": ("办件编号", "事项", "申请人", "状态", "期限", "标"),
}
FLAG_MARK = {"red": "● 红", "yellow": "● 黄", "green": "● 绿", None: ""}
PAGE = 200


class WorkbenchScreen(Screen[None]):
    """The clerk's home screen."""

    BINDINGS = [
        Binding("f2", "accept", TEXT["accept"], id="workbench.accept", tooltip="受理新的办件"),
        Binding("f3", "ledger", TEXT["ledger"], id="workbench.ledger", tooltip="容缺受理台账"),
        Binding("f4", "find", TEXT["find"], id="workbench.find", tooltip="按编号、证件号、姓名查找"),
        Binding("f5", "refresh", TEXT["refresh"], id="workbench.refresh"),
        Binding("f9", "dayclose", TEXT["dayclose"], id="workbench.dayclose", tooltip="值班长日结"),
        Binding("ctrl+l", "lock", TEXT["lock"], id="workbench.lock"),
        Binding("f10", "signout", TEXT["signout"], id="workbench.signout"),
    ]

    @property
    def app_(self) -> WindowClientApp:
        """The typed application."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="workbench-summary"):
            yield Static("", id="flags")
            yield Static("", id="queue")
        yield Static("", id="today-title", classes="section-title")
        yield DataTable(id="today-cases", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one("#today-cases", DataTable)
        table.add_columns(*TEXT["columns"])
        self.refresh_data()

    def on_screen_resume(self) -> None:
        """Back from another screen: show what changed."""
        self.refresh_data()

    def refresh_data(self) -> None:
        """Reload counts and one page of today's cases (paged from SQLite, diffed in place)."""
        app = self.app_
        today = app.today()
        services = app.services
        flags = services.cases.flag_counts(today)
        states = services.cases.state_counts()
        self.query_one("#flags", Static).update(TEXT["flags"].format(**flags))
        handout = states.get(CaseState.APPROVED, 0) + states.get(CaseState.CERTIFICATE_ISSUED, 0)
        self.query_one("#queue", Static).update(
            TEXT["queue"].format(tolerated=states.get(CaseState.ACCEPTED_TOLERATED, 0), handout=handout)
        )
        f = CaseFilter(station=services.station.code, accepted_on=today)
        cases = services.cases.list_cases(f, today, PAGE)
        self.query_one("#today-title", Static).update(TEXT["today"].format(count=services.cases.count(f)))
        table = self.query_one("#today-cases", DataTable)
        wanted = {c.case_no: c for c in cases}
        with self.app.batch_update():
            for key in [k for k in table.rows if k.value not in wanted]:
                table.remove_row(key)
            for case in cases:
                deadline = (
                    case.supplement_due if case.state == CaseState.ACCEPTED_TOLERATED else case.due_date
                )
                cells = (
                    case.case_no,
                    Text(case.item_name),
                    Text(case.applicant_name),
                    STATE_ZH[CaseState(case.state)],
                    deadline.isoformat() if deadline else "",
                    FLAG_MARK[case.flag],
                )
                if case.case_no in {k.value for k in table.rows}:
                    for column, value in zip(table.columns, cells, strict=True):
                        if table.get_cell(case.case_no, column) != value:
                            table.update_cell(case.case_no, column, value)
                else:
                    table.add_row(*cells, key=case.case_no)
        self.query_one(StatusBar).refresh_status()

    def action_accept(self) -> None:
        """Open the acceptance form."""
        from screens.accept import AcceptScreen

        self.app.push_screen(AcceptScreen())

    def action_ledger(self) -> None:
        """Open the tolerance ledger."""
        from screens.ledger import LedgerScreen

        self.app.push_screen(LedgerScreen())

    def action_find(self) -> None:
        """Find a case."""
        from screens.find import FindScreen

        self.app.push_screen(FindScreen())

    def action_dayclose(self) -> None:
        """The supervisor's day close."""
        from screens.dayclose import DayCloseScreen

        self.app.push_screen(DayCloseScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only supervisors close the day."""
        if action == "dayclose":
            member = self.app_.member
            return bool(member and member.is_supervisor)
        return True

    def action_refresh(self) -> None:
        """Reload."""
        self.refresh_data()

    def action_lock(self) -> None:
        """Lock the screen now."""
        self.app_.lock()

    def action_signout(self) -> None:
        """Sign out: back to the sign-in screen."""
        self.app_.sign_out()
