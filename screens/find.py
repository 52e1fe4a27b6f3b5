"""查找办件: by case number, ID number or name; the case's history, materials and documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models.enums import CaseState
from models.identity import normalize_id
from models.problems import DomainError
from offline_cache.repositories import CaseFilter
from screens.dialogs import DocumentDialog, ErrorDialog
from screens.status import StatusBar
from window_client.services.documents import documents_for
from window_client.services.state_machine import STATE_ZH

if TYPE_CHECKING:
    from window_client.app import WindowClientApp

TEXT: dict[str, Any] = {
    "query": "办件编号 / 证件号码 / 姓名，回车查找",
    "columns": ("办件编号", "受理日期", "申请人", "证件号码", "事项", "状态"),
    "open": "查看",
    "back": "返回",
    "found": "找到 {count} 件",
    "reveal": "显示完整证件号",
    "documents": "文书",
    "detail": (
        "{case_no}  {item}\n状态：{state}    受理：{accepted}    期限：{due}\n"
        "申请人：{name}（{id}）  电话：{phone}\n受理人：{clerk}  渠道：{channel}"
    ),
    "materials": "材料",
    "history": "办理记录",
}


class FindScreen(Screen[None]):
    """Search cases; Enter opens one."""

    BINDINGS = [Binding("escape", "back", TEXT["back"], id="find.back")]

    @property
    def app_(self) -> WindowClientApp:
        """The typed application."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder=TEXT["query"], id="find-query", max_length=60)
        yield Static("", id="find-count")
        yield DataTable(id="find-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Cursor in the query."""
        self.query_one(DataTable).add_columns(*TEXT["columns"])
        self.query_one("#find-query", Input).focus()

    @on(Input.Submitted, "#find-query")
    def _search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        services = self.app_.services
        today = self.app_.today()
        number = normalize_id(query)
        if len(number) == 18 and number[:17].isalnum():
            f = CaseFilter(applicant_id=number)
        else:
            f = CaseFilter(text=query or None)
        cases = services.cases.list_cases(f, today, 200)
        table = self.query_one(DataTable)
        table.clear()
        for c in cases:
            table.add_row(
                c.case_no, c.accepted_on.isoformat(), Text(c.applicant_name), c.applicant_id_masked,
                Text(c.item_name), STATE_ZH[CaseState(c.state)], key=c.case_no,
            )  # fmt: skip
        self.query_one("#find-count", Static).update(TEXT["found"].format(count=services.cases.count(f)))
        if cases:
            table.focus()

    @on(DataTable.RowSelected, "#find-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(CaseDetailScreen(str(event.row_key.value)))

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()


class CaseDetailScreen(Screen[None]):
    """One case: fields, checklist, history; the unmasked ID only on request (audited)."""

    BINDINGS = [
        Binding("f6", "reveal", TEXT["reveal"], id="detail.reveal"),
        Binding("f7", "documents", TEXT["documents"], id="detail.documents"),
        Binding("escape", "back", TEXT["back"], id="detail.back"),
    ]

    def __init__(self, case_no: str) -> None:
        super().__init__()
        self.case_no = case_no
        self.revealed: str | None = None

    @property
    def app_(self) -> WindowClientApp:
        """The typed application."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll():
            yield Static("", id="detail-head")
            yield Static(TEXT["materials"], classes="section-title")
            yield DataTable(id="detail-materials", cursor_type="none")
            yield Static(TEXT["history"], classes="section-title")
            yield Static("", id="detail-history")
        yield Footer()

    def on_mount(self) -> None:
        """Show the case."""
        self.query_one("#detail-materials", DataTable).add_columns("材料", "类别", "状态", "补正期限", "收到")
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
                    channel=c.channel,
                )
            )
        )
        table = self.query_one("#detail-materials", DataTable)
        table.clear()
        for m in detail.materials:
            table.add_row(
                Text(m.name),
                m.tolerance,
                m.status,
                str(m.supplement_due or ""),
                str(m.received_on or ""),
            )
        history = "\n".join(f"{h.at[:19]}  {h.actor}  {h.action}" for h in detail.history)
        self.query_one("#detail-history", Static).update(Text(history))

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
        docs = documents_for(detail.case, detail.materials, services.station.name)
        self.app.push_screen(DocumentDialog(docs, services.settings.home / "documents"))

    def action_back(self) -> None:
        """Back to the results."""
        self.app.pop_screen()
