"""查找办件: by case number, ID number or name; the case's history, materials and documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models.enums import CaseState
from models.identity import normalize_id
from models.problems import DomainError
from models.records import CaseFilter
from screens.context import Counter, counter
from screens.dialogs import DocumentDialog, ErrorDialog
from screens.status import StatusBar, SyncDataChanged
from screens.tables import (
    FLAG_STYLE,
    PAGE_MARGIN,
    STATE_SHORT,
    column_width,
    fit,
    flexible_width,
    page_size,
    screen_width,
)
from window_client.services.cases import CaseDetail
from window_client.services.documents import documents_for
from window_client.services.state_machine import EVENT_ZH, STATE_ZH, CaseEvent

TEXT: dict[str, Any] = {
    "query": "办件编号 / 证件号码 / 姓名，回车查找",
    "columns": ("办件编号", "申请人", "证件号码", "事项", "状态"),
    "open": "查看",
    "back": "返回",
    "found": "找到 {count} 件（↓ 或 Tab 进入结果，回车查看）",
    "results": "结果",
    "reveal": "完整证件号",
    "documents": "文书",
    "detail": (
        "{case_no}  {item}\n状态：{state}    受理：{accepted}    期限：{due}\n"
        "申请人：{name}（{id}）  电话：{phone}\n受理人：{clerk}  渠道：{channel}"
    ),
    "identity": "身份核验：{identity}",
    "specialist": "办事专员：{who}",
    "crosshall": "跨区通办：异地收件，由{partner}办理（对方事项{code}），结果到达后在本窗口交付",
    "materials": "材料",
    "history": "办理记录",
    "hall": "大厅时效：{flag}  {due}  首办负责人：{handler}",
    "hall_paused": "补正中，暂停计时",
    "hall_due": "办结期限 {due}（剩 {left} 个工作日）",
    "hall_none": "未指定",
    "reminders": "提醒记录",
    "reminder": "{due}  {rule}  {to}  {status}",
    "no_reminders": "（无）",
    "material_columns": ("材料", "类别", "状态", "补正期限", "收到"),
    "tolerance": {"core": "核心", "tolerable": "可容缺", "optional": "非必要"},
    "status": {"presented": "已收", "e_license": "电子证照", "missing": "缺"},
    "channels": {"window": "窗口", "station": "驿站", "delivery": "政务外卖", "batch": "批量"},
    "actions": {
        "case.partial_supplement": "部分补正",
        "case.resubmitted": "重复提交（未重复受理）",
        "id.view": "查看完整证件号",
        "sync.case_state": "后台办理结果",
        "sync.conflict": "同步被退回",
        "notify.queue": "生成提醒",
        "notify.sent": "发送提醒",
    },
}
# Widths of the fixed columns of the results (case number, applicant, masked ID, state) and
# of the checklist (class, status, deadline, received); the names get the rest.
CASE_NO, APPLICANT, ID_MASKED, STATE = 19, 10, 18, 8
TOLERANCE, STATUS, DUE, RECEIVED = 6, 8, 10, 10


def local_time(stamp: str) -> str:
    """An audit timestamp (UTC, ISO 8601) in the counter's local time, to the minute."""
    try:
        return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp[:16]


def action_zh(action: str) -> str:
    """An audit action as the counter names it (受理, 补正, 终止 …)."""
    if action in TEXT["actions"]:
        return str(TEXT["actions"][action])
    name = action.removeprefix("case.")
    if name in {s.value for s in CaseState}:
        return STATE_ZH[CaseState(name)]
    if name in {e.value for e in CaseEvent}:
        return EVENT_ZH[CaseEvent(name)]
    return action


class FindScreen(Screen[None]):
    """Search cases; Enter opens one."""

    fitted_width = 0  # the screen width the results were last filled for
    loaded = 0  # results read so far (pages)
    total = 0
    applicant_width = item_width = 0

    BINDINGS = [
        Binding("escape", "back", TEXT["back"], id="find.back"),
        Binding("down", "results", TEXT["results"], id="find.results", show=False, tooltip="到结果"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_filter: CaseFilter | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """↓ moves from the query to the results only when there are results to move to."""
        if action == "results":
            return self.focused is self.query_one("#find-query", Input) and self.total > 0
        return True

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder=TEXT["query"], id="find-query", max_length=60)
        yield Static("", id="find-count")
        yield DataTable(id="find-table", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Cursor in the query."""
        self.query_one(DataTable).add_columns(*TEXT["columns"])
        self.query_one("#find-query", Input).focus()

    def on_sync_data_changed(self, _message: SyncDataChanged) -> None:
        """A sync changed cases: the same search again, showing their states now."""
        if self.is_mounted and self.last_filter is not None:
            self.show_results(self.last_filter)

    @on(Input.Submitted, "#find-query")
    def _search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        number = normalize_id(query)
        if len(number) == 18 and number[:17].isalnum():
            f = CaseFilter(applicant_id=number)
        else:
            f = CaseFilter(text=query or None)
        self.last_filter = f
        # The cursor stays in the query: a clerk who types the next query straight away (or
        # presses Enter again) searches again instead of opening whichever case is first.
        # ↓ or Tab moves to the results. The query is selected, so the next one typed replaces it.
        self.show_results(f)
        event.input.select_all()

    def show_results(self, f: CaseFilter) -> int:
        """The newest page of cases matching ``f`` (more pages load as the cursor goes down);
        returns how many match."""
        self.total = self.app_.services.cases.count(f)
        self.query_one("#find-count", Static).update(TEXT["found"].format(count=self.total))
        self.query_one(DataTable).clear()
        self.loaded = 0
        self.fitted_width = screen_width(self)
        self._load(f)
        return self.total

    def _load(self, f: CaseFilter) -> None:
        cases = self.app_.services.cases.list_cases(f, self.app_.today(), page_size(self), offset=self.loaded)
        if self.loaded == 0:  # the first page sets the column widths
            self.applicant_width = column_width(
                (c.applicant_name for c in cases), APPLICANT, TEXT["columns"][1]
            )
            self.item_width = flexible_width(
                self.fitted_width, (CASE_NO, self.applicant_width, ID_MASKED, STATE)
            )
        table = self.query_one(DataTable)
        for c in cases:
            if c.case_no not in table.rows:
                table.add_row(
                    c.case_no, fit(c.applicant_name, self.applicant_width), c.applicant_id_masked,
                    fit(c.item_name, self.item_width), STATE_SHORT[c.state], key=c.case_no,
                )  # fmt: skip
        self.loaded += len(cases)

    @on(DataTable.RowHighlighted, "#find-table")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if self.last_filter and self.loaded < self.total and event.cursor_row >= self.loaded - PAGE_MARGIN:
            self._load(self.last_filter)

    def on_resize(self, event: events.Resize) -> None:
        """Item names get what a wider (or narrower) screen leaves them."""
        if self.is_mounted and self.last_filter is not None and event.size.width != self.fitted_width:
            self.show_results(self.last_filter)

    def action_results(self) -> None:
        """From the query to the results."""
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#find-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(CaseDetailScreen(str(event.row_key.value)))

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()


class CaseDetailScreen(Screen[None]):
    """One case: fields, checklist, history; the unmasked ID only on request (audited)."""

    fitted_width = 0  # the screen width the checklist was last filled for

    BINDINGS = [
        Binding("f6", "reveal", TEXT["reveal"], id="detail.reveal", tooltip="显示完整证件号（记入审计）"),
        Binding("f7", "documents", TEXT["documents"], id="detail.documents", tooltip="回执、通知书、告知书"),
        Binding("escape", "back", TEXT["back"], id="detail.back"),
    ]

    def __init__(self, case_no: str) -> None:
        super().__init__()
        self.case_no = case_no
        self.revealed: str | None = None

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll():
            yield Static("", id="detail-head")
            yield Static(TEXT["materials"], classes="section-title")
            yield DataTable(id="detail-materials", cursor_type="none")
            yield Static(TEXT["history"], classes="section-title")
            yield Static("", id="detail-history")
            yield Static(TEXT["reminders"], classes="section-title")
            yield Static("", id="detail-reminders")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Show the case."""
        self.query_one("#detail-materials", DataTable).add_columns(*TEXT["material_columns"])
        self.show()

    def on_resize(self, event: events.Resize) -> None:
        """Material names get what a wider (or narrower) screen leaves them."""
        table = self.query_one("#detail-materials", DataTable)
        if self.is_mounted and table.columns and event.size.width != self.fitted_width:
            self.show()

    def show(self) -> None:
        """Render the case."""
        detail = self.app_.services.cases.detail(self.case_no, self.app_.today())
        c = detail.case
        due = c.supplement_due if c.state == CaseState.ACCEPTED_TOLERATED else c.due_date
        self.query_one("#detail-head", Static).update(
            Text(
                TEXT["detail"].format(
                    case_no=c.case_no,
                    item=c.item_name,
                    state=STATE_ZH[CaseState(c.state)],
                    accepted=c.accepted_on,
                    due=due or "—",
                    name=c.applicant_name,
                    id=self.revealed or c.applicant_id_masked,
                    phone=c.phone_masked or "—",
                    clerk=c.clerk,
                    channel=TEXT["channels"].get(c.channel, c.channel),
                )
                + "".join("\n" + line for line in self._assistance_lines(detail))
            )
        )
        table = self.query_one("#detail-materials", DataTable)
        table.clear()
        self.fitted_width = screen_width(self)
        name_width = flexible_width(self.fitted_width, (TOLERANCE, STATUS, DUE, RECEIVED))
        for m in detail.materials:
            table.add_row(
                fit(m.name, name_width),
                TEXT["tolerance"].get(m.tolerance, m.tolerance),
                Text(TEXT["status"].get(m.status, m.status), style="red" if m.status == "missing" else ""),
                str(m.supplement_due or ""),
                str(m.received_on or ""),
            )
        history = "\n".join(f"{local_time(h.at)}  {h.actor}  {action_zh(h.action)}" for h in detail.history)
        self.query_one("#detail-history", Static).update(Text(history))
        reminders = [
            TEXT["reminder"].format(
                due=n["due_on"], rule=n["rule_zh"], to=n["to_masked"], status=n["status_zh"]
            )
            for n in self.app_.services.notify.listing(self.case_no)
        ]
        self.query_one("#detail-reminders", Static).update(Text("\n".join(reminders) or TEXT["no_reminders"]))

    def _assistance_lines(self, detail: CaseDetail) -> list[str]:
        """The hall's 红黄绿 and 首办负责人 (once pulled), how the applicant was identified, the
        enterprise's 办事专员, and the partner hall that handles a 异地收件 case (when there are)."""
        c = detail.case
        lines = self._hall_lines(c.case_no)
        lines += [TEXT["identity"].format(identity=detail.identity.zh)] if detail.identity else []
        specialist = self.app_.services.assistance.specialist_for(c.applicant_type, c.applicant_id)
        if specialist is not None:
            lines.append(TEXT["specialist"].format(who=specialist.zh))
        item = self.app_.services.catalog.items.get(c.item_code)
        owner = item.owner if item is not None else None
        if owner is not None:  # 跨区通办: the item belongs to a partner hall
            lines.append(TEXT["crosshall"].format(partner=owner.partner, code=owner.code))
        return lines

    def _hall_lines(self, case_no: str) -> list[str]:
        hall = self.app_.services.notify.hall_view(case_no)
        if hall is None or hall["flag"] is None:
            return []
        due = (
            TEXT["hall_paused"]
            if hall["paused"]
            else TEXT["hall_due"].format(due=hall["due_date"], left=hall["days_left"])
        )
        handler = (
            f"{hall['handler_name'] or ''}（{hall['handler']}）" if hall["handler"] else TEXT["hall_none"]
        )
        return [TEXT["hall"].format(flag=FLAG_STYLE[hall["flag"]][0], due=due, handler=handler)]

    def action_reveal(self) -> None:
        """Show the full ID; the view is written to the audit trail."""
        try:
            self.revealed = self.app_.services.cases.reveal_id(self.case_no, "counter lookup")
        except DomainError as exc:
            self.app.push_screen(ErrorDialog(exc.problem.zh()))
            return
        self.show()

    def action_documents(self) -> None:
        """The case's receipt or notices."""
        services = self.app_.services
        detail = services.cases.detail(self.case_no, self.app_.today())
        code = services.ratings.code_for(detail.case.case_no)
        docs = documents_for(detail.case, detail.materials, services.station.name, code, detail.identity)
        self.app.push_screen(DocumentDialog(docs, services.settings.home / "documents"))

    def action_back(self) -> None:
        """Back to the results."""
        self.app.pop_screen()
