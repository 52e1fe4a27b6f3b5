"""工作台: today's cases at this window, the 红黄绿 counts and the queue of waiting work.

The counts and today's cases are read in a thread worker (group ``workbench``; the next page
as the cursor nears the end, group ``workbench-page``) and come back as one message: the screen
keeps what it shows until then and applies the new figures and the table's diff in one batch,
so a refresh never blanks the screen. A read that fails says so in the title, is handed to the
App (which logs it and shows its dialog) and leaves the last figures in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

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

if TYPE_CHECKING:
    from window_client.services.runtime import Runtime

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
    "failed": "今日办件未能读取（按 F5 重试）",
    "columns": ("办件编号", "事项", "申请人", "状态", "期限", "标"),
}
# Widths of the fixed columns (case number, applicant, state, deadline, flag); the item name
# gets the rest of the screen.
CASE_NO, APPLICANT, STATE, DEADLINE, FLAG = 19, 10, 8, 10, 2
QUEUE_STATES = (CaseState.ACCEPTED_TOLERATED, CaseState.APPROVED, CaseState.CERTIFICATE_ISSUED)
LOAD_GROUP, PAGE_GROUP = "workbench", "workbench-page"


@dataclass(frozen=True)
class WorkbenchData:
    """What the workbench shows, as one worker read it: the 红黄绿 counts, the waiting work,
    how many cases were accepted today and the first of them (newest first)."""

    flags: dict[str, int]
    tolerated: int
    handout: int
    total: int
    cases: list[CaseView]


def read_workbench(services: Runtime, case_filter: CaseFilter, today: dt.date, limit: int) -> WorkbenchData:
    """The workbench's figures and first ``limit`` cases (a few indexed queries; off the UI thread)."""
    queue = services.cases.count_in_states(QUEUE_STATES)
    return WorkbenchData(
        flags=services.cases.flag_counts(today),
        tolerated=queue[CaseState.ACCEPTED_TOLERATED],
        handout=queue[CaseState.APPROVED] + queue[CaseState.CERTIFICATE_ISSUED],
        total=services.cases.count(case_filter),
        cases=services.cases.list_cases(case_filter, today, limit),
    )


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
    generation = 0  # of the last refresh asked for: older answers are dropped
    paging = False  # a next page is being read
    failing = False  # the last read failed (and was reported)

    @dataclass
    class Loaded(Message):
        """A refresh's figures and cases, as its worker read them."""

        generation: int
        data: WorkbenchData

    @dataclass
    class PageLoaded(Message):
        """The next page of today's cases, read from ``offset`` on."""

        generation: int
        offset: int
        cases: list[CaseView]

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
        """Reload counts and one page of today's cases in a worker (paged from SQLite); the
        answer is diffed into the table (:meth:`on_workbench_screen_loaded`)."""
        self.generation += 1
        limit = max(page_size(self), self.loaded)
        self._load(self.app_.services, self._filter(), self.app_.today(), limit, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP, name="workbench")
    def _load(
        self, services: Runtime, case_filter: CaseFilter, today: dt.date, limit: int, generation: int
    ) -> None:
        self.post_message(self.Loaded(generation, read_workbench(services, case_filter, today, limit)))

    def on_workbench_screen_loaded(self, message: Loaded) -> None:
        """Show the figures and diff the cases into the table, in one batch (no blank frame)."""
        if message.generation != self.generation:
            return  # a later refresh is on its way
        data = message.data
        self.paging = self.failing = False
        with self.app.batch_update():
            self.query_one("#flags", Static).update(TEXT["flags"].format(**data.flags))
            self.query_one("#queue", Static).update(
                TEXT["queue"].format(tolerated=data.tolerated, handout=data.handout)
            )
            self.total = data.total
            self.query_one("#today-title", Static).update(TEXT["today"].format(count=self.total))
            self._show_cases(data.cases)
        self.query_one(StatusBar).refresh_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed read says so in the title and keeps what was shown; the App logs the
        traceback and shows its dialog (worker events do not bubble: the screen hands it on)."""
        error = event.worker.error
        if event.state is WorkerState.ERROR and event.worker.group in (LOAD_GROUP, PAGE_GROUP):
            self.paging = False
            self.query_one("#today-title", Static).update(TEXT["failed"])
            # Once per spell of failures: closing the dialog resumes this screen, which reads
            # again; a store still failing must not answer with the same dialog for ever.
            if error is not None and not self.failing:
                self.failing = True
                self.app_.report_error(error)

    def _show_cases(self, cases: list[CaseView]) -> None:
        self.loaded = len(cases)
        table = self.query_one("#today-cases", DataTable)
        self.applicant_width = column_width((c.applicant_name for c in cases), APPLICANT, TEXT["columns"][2])
        self.fitted_width = screen_width(self)
        self.item_width = flexible_width(
            self.fitted_width, (CASE_NO, self.applicant_width, STATE, DEADLINE, FLAG)
        )
        wanted = {c.case_no: c for c in cases}
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
        if self.paging or self.loaded >= self.total or event.cursor_row < self.loaded - PAGE_MARGIN:
            return
        self.paging = True
        app = self.app_
        self._page(app.services, self._filter(), app.today(), page_size(self), self.loaded, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group=PAGE_GROUP, name="workbench page")
    def _page(
        self,
        services: Runtime,
        case_filter: CaseFilter,
        today: dt.date,
        limit: int,
        offset: int,
        generation: int,
    ) -> None:
        cases = services.cases.list_cases(case_filter, today, limit, offset=offset)
        self.post_message(self.PageLoaded(generation, offset, cases))

    def on_workbench_screen_page_loaded(self, message: PageLoaded) -> None:
        """Append the page (unless a refresh has reloaded the table since it was asked for)."""
        if message.generation != self.generation:
            return  # the refresh under way reads as many rows again, and resets the paging
        self.paging = False
        if message.offset != self.loaded:
            return
        table = self.query_one("#today-cases", DataTable)
        for case in message.cases:
            if case.case_no not in table.rows:
                table.add_row(*self._cells(case), key=case.case_no)
        self.loaded += len(message.cases)

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
