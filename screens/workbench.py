"""工作台: today's cases at this window, the 红黄绿 counts and the queue of waiting work."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.enums import CaseState
from models.records import CaseFilter, CaseView
from screens.context import Counter, counter
from screens.status import StatusBar, SyncDataChanged
from screens.tables import (
    PAGE_MARGIN,
    STATE_SHORT,
    column_width,
    fit,
    flag_text,
    flexible_width,
    page_size,
    screen_width,
)

TEXT: dict[str, Any] = {
    "accept": "受理",
    "ledger": "容缺台账",
    "find": "查找",
    "certificates": "出证",
    "refresh": "刷新",
    "dayclose": "日结",
    "sync": "同步",
    "stale_title": "暂停受理新办件",
    "stale": "{reason}\n\n按 F8 打开同步页，或按 Ctrl+Y 立即同步。",
    "lock": "锁屏",
    "signout": "注销",
    "today": "今日办件（{count}件，回车查看）",
    "flags": "红 {red}  黄 {yellow}  绿 {green}",
    "queue": "待补正 {tolerated} 件 · 待领取 {handout} 件",
    "columns": ("办件编号", "事项", "申请人", "状态", "期限", "标"),
}
# Widths of the fixed columns (case number, applicant, state, deadline, flag); the item name
# gets the rest of the screen.
CASE_NO, APPLICANT, STATE, DEADLINE, FLAG = 19, 10, 8, 10, 2
QUEUE_STATES = (CaseState.ACCEPTED_TOLERATED, CaseState.APPROVED, CaseState.CERTIFICATE_ISSUED)


class WorkbenchScreen(Screen[None]):
    """The clerk's home screen."""

    BINDINGS = [
        Binding("f2", "accept", TEXT["accept"], id="workbench.accept", tooltip="受理新的办件"),
        Binding(
            "f3", "ledger", TEXT["ledger"], id="workbench.ledger", tooltip="容缺受理台账：补正销号、终止"
        ),
        Binding("f4", "find", TEXT["find"], id="workbench.find", tooltip="按编号、证件号、姓名查找办件"),
        # Off the footer (a supervisor's keys would not fit 80 columns): the table reloads
        # after every sync and on return from another screen; F5 and the palette still work.
        Binding(
            "f5", "refresh", TEXT["refresh"], show=False, id="workbench.refresh", tooltip="重新读取今日办件"
        ),
        Binding(
            "f6",
            "certificates",
            TEXT["certificates"],
            id="workbench.certificates",
            tooltip="出证、领取、寄递、核验",
        ),
        Binding(
            "f8", "sync", TEXT["sync"], id="workbench.sync", tooltip="同步状态、被大厅退回的操作，立即同步"
        ),
        Binding("f9", "dayclose", TEXT["dayclose"], id="workbench.dayclose", tooltip="值班长日结（分窗口）"),
        Binding("ctrl+l", "lock", TEXT["lock"], id="workbench.lock", tooltip="离开窗口时锁屏"),
        Binding("f10", "signout", TEXT["signout"], id="workbench.signout", tooltip="退出登录，换人登录"),
    ]

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    fitted_width = 0  # the screen width the table was last filled for
    loaded = 0  # today's cases read so far (pages)
    total = 0
    applicant_width = item_width = 0
    resumed = False

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="workbench-summary"):
            yield Static("", id="flags")
            yield Static("", id="queue")
        yield Static("", id="today-title", classes="section-title")
        yield DataTable(id="today-cases", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one("#today-cases", DataTable)
        table.add_columns(*TEXT["columns"])
        self.refresh_data()

    def on_screen_resume(self) -> None:
        """Back from another screen: show what changed (the first resume is the push itself,
        right after :meth:`on_mount` filled the table)."""
        if self.resumed:
            self.refresh_data()
        self.resumed = True

    def on_sync_data_changed(self, _message: SyncDataChanged) -> None:
        """A sync brought decisions (or refusals): show the cases as they are now."""
        if self.is_mounted:
            self.refresh_data()

    def on_resize(self, event: events.Resize) -> None:
        """Item names get what a wider (or narrower) screen leaves them."""
        table = self.query_one("#today-cases", DataTable)
        if self.is_mounted and table.columns and event.size.width != self.fitted_width:
            self.refresh_data()

    def refresh_data(self) -> None:
        """Reload counts and one page of today's cases (paged from SQLite, diffed in place)."""
        app = self.app_
        today = app.today()
        services = app.services
        flags = services.cases.flag_counts(today)
        queue = services.cases.count_in_states(QUEUE_STATES)
        self.query_one("#flags", Static).update(TEXT["flags"].format(**flags))
        handout = queue[CaseState.APPROVED] + queue[CaseState.CERTIFICATE_ISSUED]
        self.query_one("#queue", Static).update(
            TEXT["queue"].format(tolerated=queue[CaseState.ACCEPTED_TOLERATED], handout=handout)
        )
        f = self._filter()
        self.total = services.cases.count(f)
        self.query_one("#today-title", Static).update(TEXT["today"].format(count=self.total))
        cases = services.cases.list_cases(f, today, max(page_size(self), self.loaded))
        self.loaded = len(cases)
        table = self.query_one("#today-cases", DataTable)
        self.applicant_width = column_width((c.applicant_name for c in cases), APPLICANT, TEXT["columns"][2])
        self.fitted_width = screen_width(self)
        self.item_width = flexible_width(
            self.fitted_width, (CASE_NO, self.applicant_width, STATE, DEADLINE, FLAG)
        )
        wanted = {c.case_no: c for c in cases}
        with self.app.batch_update():
            for key in [k for k in table.rows if k.value not in wanted]:
                table.remove_row(key)
            present = {k.value for k in table.rows}
            added = False
            for case in cases:
                cells = self._cells(case)
                if case.case_no in present:
                    for column, value in zip(table.columns, cells, strict=True):
                        if table.get_cell(case.case_no, column) != value:
                            table.update_cell(case.case_no, column, value, update_width=True)
                else:
                    table.add_row(*cells, key=case.case_no)
                    added = True
            if added and present:  # new cases go on top, where the newest are
                table.sort(next(iter(table.columns)), reverse=True)
        self.query_one(StatusBar).refresh_status()

    def _filter(self) -> CaseFilter:
        return CaseFilter(station=self.app_.services.station.code, accepted_on=self.app_.today())

    def _cells(self, case: CaseView) -> tuple[str | Text, ...]:
        deadline = case.supplement_due if case.state == CaseState.ACCEPTED_TOLERATED else case.due_date
        return (
            case.case_no,
            fit(case.item_name, self.item_width),
            fit(case.applicant_name, self.applicant_width),
            STATE_SHORT[case.state],
            deadline.isoformat() if deadline else "",
            flag_text(case.flag),
        )

    @on(DataTable.RowHighlighted, "#today-cases")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        """The next page of today's cases when the cursor nears the last loaded row."""
        if self.loaded >= self.total or event.cursor_row < self.loaded - PAGE_MARGIN:
            return
        table = event.data_table
        cases = self.app_.services.cases.list_cases(
            self._filter(), self.app_.today(), page_size(self), offset=self.loaded
        )
        for case in cases:
            if case.case_no not in table.rows:
                table.add_row(*self._cells(case), key=case.case_no)
        self.loaded += len(cases)

    @on(DataTable.RowSelected, "#today-cases")
    def _open_case(self, event: DataTable.RowSelected) -> None:
        from screens.find import CaseDetailScreen

        self.app.push_screen(CaseDetailScreen(str(event.row_key.value)))

    def action_accept(self) -> None:
        """Open the acceptance form, unless the station has gone too long without a sync: then
        say why instead (its data stays viewable; syncing lifts the stop)."""
        from screens.accept import AcceptScreen
        from screens.dialogs import ErrorDialog

        stale = self.app_.services.acceptance.staleness()
        if stale is not None:
            self.app.push_screen(ErrorDialog(TEXT["stale"].format(reason=stale.zh()), TEXT["stale_title"]))
            return
        self.app.push_screen(AcceptScreen())

    def action_sync(self) -> None:
        """The sync screen: status, refused operations, sync now."""
        from screens.sync import SyncScreen

        self.app.push_screen(SyncScreen())

    def action_ledger(self) -> None:
        """Open the tolerance ledger."""
        from screens.ledger import LedgerScreen

        self.app.push_screen(LedgerScreen())

    def action_find(self) -> None:
        """Find a case."""
        from screens.find import FindScreen

        self.app.push_screen(FindScreen())

    def action_certificates(self) -> None:
        """统一出证: issue, hand out, verify."""
        from screens.certificate import CertificateScreen

        self.app.push_screen(CertificateScreen())

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
