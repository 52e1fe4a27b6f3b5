"""容缺台账: every tolerated case by urgency, 销号 on 补正, termination, a reminder list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models.approval import ApprovalAct
from models.enums import CaseState, MaterialStatus
from models.problems import DomainError
from models.records import CaseFilter
from screens.context import Counter, counter
from screens.dialogs import ConfirmDialog, ErrorDialog, SupervisorDialog
from screens.saving import SAVE_GROUP, save_from_worker
from screens.status import StatusBar
from screens.tables import (
    PAGE_MARGIN,
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
    "filter": "筛选：办件编号或申请人姓名",
    "title": "容缺受理台账（按补正期限排序，共{count}件）",
    # 厅: the hall's 红黄绿 of the case's 承诺时限 (as last pulled; — before the hall said).
    "columns": ("标", "厅", "补正期限", "办件编号", "申请人", "事项"),
    "receive": "补正销号",
    "terminate": "终止",
    "reminder": "催办清单",
    "back": "返回",
    "confirm_receive": "确认已收到 {case_no} 的全部容缺材料并销号？\n{names}",
    "received": "{case_no} 已补齐销号，恢复计时",
    "partial": "{case_no}：{reason}",
    "terminated_late": "{case_no} 补正逾期，已终止",
    "confirm_terminate": "终止办件 {case_no}？申请人的容缺承诺将记为未履行。",
    "terminated": "{case_no} 已终止",
    "saved": "催办清单已保存：{path}",
    "reminder_title": "容缺受理催办清单（{day}）",
    "none": "台账中没有办件",
}
# Why a case is terminated from the ledger (F7): the supervisor's decision, not a 容缺 rule.
TERMINATE_REASON = "terminated at the counter"
# Widths of the fixed columns (flag, deadline, case number, applicant); the item name gets
# the rest of the screen.
FLAG, DEADLINE, CASE_NO, APPLICANT = 2, 10, 19, 10


class LedgerScreen(Screen[None]):
    """The tolerance ledger."""

    # The table has the focus from the start (not the filter box first, then the table): one
    # focus change less means one full render of the table less when the screen opens.
    AUTO_FOCUS = "#ledger-table"

    BINDINGS = [
        Binding(
            "enter",
            "receive",
            TEXT["receive"],
            id="ledger.receive",
            priority=True,
            tooltip="收到全部容缺材料：补齐销号，恢复计时",
        ),
        Binding(
            "f7",
            "terminate",
            TEXT["terminate"],
            id="ledger.terminate",
            tooltip="终止办件（补正逾期或不符合要求；需值班长）",
        ),
        Binding("f6", "reminder", TEXT["reminder"], id="ledger.reminder", tooltip="红、黄办件保存为催办清单"),
        Binding("escape", "back", TEXT["back"], id="ledger.back"),
    ]

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    fitted_width = 0  # the screen width the table was last filled for
    loaded = 0  # rows read so far (pages)
    total = 0  # rows matching the filter
    applicant_width = item_width = 0

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder=TEXT["filter"], id="ledger-filter", max_length=40)
        yield Static("", id="ledger-title", classes="section-title")
        yield DataTable(id="ledger-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Fill the table; the cursor on the most urgent case."""
        self.query_one(DataTable).add_columns(*TEXT["columns"])
        self.reload()
        self.query_one(DataTable).focus()

    def _filter(self) -> CaseFilter:
        text = self.query_one("#ledger-filter", Input).value.strip()
        return CaseFilter(state=CaseState.ACCEPTED_TOLERATED.value, text=text or None)

    @on(Input.Changed, "#ledger-filter")
    def _filter_changed(self) -> None:
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        """Item names get what a wider (or narrower) screen leaves them."""
        if self.is_mounted and self.query_one(DataTable).columns and event.size.width != self.fitted_width:
            self.reload()

    def reload(self) -> None:
        """The most urgent page from SQLite (the next pages load as the cursor goes down)."""
        services = self.app_.services
        f = self._filter()
        self.total = services.cases.count(f)
        self.query_one("#ledger-title", Static).update(TEXT["title"].format(count=self.total))
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        self.loaded = 0
        self.fitted_width = screen_width(self)
        self._load(f, max(page_size(self), cursor + 1))
        if table.row_count:  # the cursor stays where the clerk was (after a 销号, on the next)
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _load(self, f: CaseFilter, limit: int) -> None:
        cases = self.app_.services.cases.list_cases(
            f, self.app_.today(), limit, offset=self.loaded, order="supplement_due, id"
        )
        if self.loaded == 0:  # the first page sets the column widths
            self.applicant_width = column_width(
                (c.applicant_name for c in cases), APPLICANT, TEXT["columns"][3]
            )
            self.item_width = flexible_width(
                self.fitted_width, (FLAG, FLAG, DEADLINE, CASE_NO, self.applicant_width)
            )
        table = self.query_one(DataTable)
        hall = self.app_.services.notify.hall_flags([c.case_no for c in cases])
        for case in cases:
            if case.case_no in table.rows:
                continue
            table.add_row(
                flag_text(case.flag),
                flag_text(hall.get(case.case_no, {}).get("flag")),
                case.supplement_due.isoformat() if case.supplement_due else "",
                case.case_no,
                fit(case.applicant_name, self.applicant_width),
                fit(case.item_name, self.item_width),
                key=case.case_no,
            )
        self.loaded += len(cases)

    @on(DataTable.RowHighlighted, "#ledger-table")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if self.loaded < self.total and event.cursor_row >= self.loaded - PAGE_MARGIN:
            self._load(self._filter(), page_size(self))

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter in the filter box filters; on the table it receives."""
        return not (action == "receive" and isinstance(self.focused, Input))

    @work(exclusive=True, group="ledger", exit_on_error=False)
    async def action_receive(self) -> None:
        """All missing materials received: 补齐 and 销号 (late ones terminate the case)."""
        case_no = self._selected()
        if case_no is None:
            return
        services = self.app_.services
        today = self.app_.today()
        detail = services.cases.detail(case_no, today)
        missing = [m for m in detail.materials if m.status == MaterialStatus.MISSING and m.supplement_due]
        names = "\n".join(f"· {m.name}（{m.supplement_due}前）" for m in missing)
        if not await self.app.push_screen_wait(
            ConfirmDialog(TEXT["confirm_receive"].format(case_no=case_no, names=names))
        ):
            return
        try:
            case, problem = services.cases.supplement(case_no, [m.code for m in missing], today)
        except DomainError as exc:
            self.app.push_screen(ErrorDialog(exc.problem.zh()))
            return
        if case.state == CaseState.TERMINATED:
            self.app.notify(TEXT["terminated_late"].format(case_no=case_no), severity="warning")
        elif problem is not None:
            self.app.notify(TEXT["partial"].format(case_no=case_no, reason=problem.zh()))
        else:
            self.app.notify(TEXT["received"].format(case_no=case_no))
        self.reload()

    @work(exclusive=True, group="ledger", exit_on_error=False)
    async def action_terminate(self) -> None:
        """Terminate the selected case; a clerk needs a supervisor to sign in on the spot."""
        case_no = self._selected()
        if case_no is None:
            return
        member = self.app_.member
        services = self.app_.services
        # The supervisor signs the approval (models.approval): the hall believes the signature,
        # never a name. A signed-in supervisor signs with their own key; a clerk, or a supervisor
        # whose session holds no key, has a supervisor type the password here.
        approver = member if member and member.is_supervisor and member.approval_key else None
        if approver is None:
            approver = await self.app.push_screen_wait(
                SupervisorDialog(services.staff, [TEXT["confirm_terminate"].format(case_no=case_no)])
            )
            if approver is None:
                return
        elif not await self.app.push_screen_wait(
            ConfirmDialog(TEXT["confirm_terminate"].format(case_no=case_no))
        ):
            return
        try:
            approval = approver.approve(ApprovalAct.TERMINATE, case_no)
            services.cases.terminate(case_no, self.app_.today(), TERMINATE_REASON, approval=approval)
        except DomainError as exc:
            self.app.push_screen(ErrorDialog(exc.problem.zh()))
            return
        self.app.notify(TEXT["terminated"].format(case_no=case_no))
        self.reload()

    def action_reminder(self) -> None:
        """Save the red and yellow entries as a printable reminder list (in a worker)."""
        self._save_reminder(self.app_.services, self.app_.today(), self._filter())

    @work(thread=True, exclusive=True, exit_on_error=False, group=SAVE_GROUP, name="reminder list")
    def _save_reminder(self, services: Runtime, today: dt.date, f: CaseFilter) -> None:
        cases = services.cases.list_cases(f, today, 10_000, order="supplement_due, id")
        urgent = [c for c in cases if c.flag in ("red", "yellow")]
        lines = [TEXT["reminder_title"].format(day=today.isoformat()), ""]
        lines += [
            f"{'红' if c.flag == 'red' else '黄'}  {c.supplement_due}  {c.case_no}  {c.applicant_name}"
            f"  {c.phone_masked or ''}  {c.item_name}"
            for c in urgent
        ] or [TEXT["none"]]
        folder = services.settings.home / "documents"
        save_from_worker(self, folder, f"催办清单-{today.isoformat()}.txt", lines, TEXT["saved"])

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()
