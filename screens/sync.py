"""同步: the connection to the hall, what is queued, and every operation the hall refused.

Nothing is dropped silently (DESIGN.md §4): an operation the hall refused stays on record here
with the hall's reason and what staff can do about it, until someone marks it 已阅 (Enter),
which records who and when. The status lines come from the App's sync status (no I/O); the
table is read from the store when the screen opens and after every sync.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.state_machine import EVENT_ZH, CaseEvent
from screens.context import Counter, counter
from screens.status import StatusBar, SyncDataChanged
from screens.tables import fit, flexible_width, screen_width

if TYPE_CHECKING:
    from window_client.services.sync import RefusedOperation, SyncStatus

TEXT: dict[str, Any] = {
    "sync_now": "立即同步",
    "reauth": "重新登录",
    "back": "返回",
    "hall": "大厅：{url}（{state}）",
    "online": "在线",
    "offline": "离线",
    "running": "正在同步……",
    "unknown": "尚未连接",
    "last_sync": "上次同步：{at}",
    "never": "从未同步",
    "next_retry": "　下次重试：{at}",
    "pending": "待同步 {pending} 项",
    "error": "最近错误：{error}",
    "audit_alarm": "{alarm}（请值班长核查：window-client audit verify --against-hall）",
    "reauth_hint": "大厅要求重新登录：按 F6 输入密码后继续同步（未同步的操作均已保留）",
    "no_sync": "未连接大厅：{problem}",
    "title": "被大厅退回的操作（{unread} 项未阅，共 {total} 项；回车：已阅）",
    "columns": ("办件编号", "操作", "代码", "原因", "已阅"),
    "none": "没有被退回的操作。",
    "detail": "原因：{reason}\n处理：{action}",
    "winner": "\n大厅采用：{winner}",
    "reviewed": "\n已阅：{by}（{at}）",
    "acknowledged": "已记录：{by} 已阅 {case}",
    "already": "该操作已由 {by} 于 {at} 阅过",
    "kinds": {"case.accept": "受理", "case.partial_supplement": "部分补正"},
}
# Fixed columns: case number, operation, code, reviewed-by; the reason gets the rest.
CASE_NO, OPERATION, CODE, REVIEWED = 19, 12, 14, 4


def _local(at: dt.datetime | None, with_date: bool = True) -> str:
    if at is None:
        return ""
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def _local_text(stamp: str | None) -> str:
    """A stored ISO timestamp in the hall's local time (as typed when it cannot be read)."""
    if not stamp:
        return ""
    try:
        return _local(dt.datetime.fromisoformat(stamp))
    except ValueError:
        return stamp


def _operation(row: RefusedOperation) -> str:
    if row.event:
        try:
            return EVENT_ZH[CaseEvent(row.event)]
        except ValueError:
            return row.event
    return str(TEXT["kinds"].get(row.kind, row.kind))


class SyncScreen(Screen[None]):
    """Sync status and the refused operations (F8 on the workbench)."""

    BINDINGS = [
        Binding("f5", "sync_now", TEXT["sync_now"], id="sync.now", tooltip="立即与大厅同步"),
        Binding("f6", "reauth", TEXT["reauth"], id="sync.reauth", tooltip="大厅要求重新登录时输入密码"),
        Binding("escape", "back", TEXT["back"], id="sync.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RefusedOperation] = []
        self.reason_width = 0

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="sync-state")
        yield Static("", id="refused-title", classes="section-title")
        yield DataTable(id="refused-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="refused-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Show the status (kept current every second) and the refused operations."""
        self.query_one("#refused-table", DataTable).add_columns(*TEXT["columns"])
        self.show_state()
        self.reload()
        self.set_interval(1, self.show_state)
        self.query_one("#refused-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a dialog (the lock screen): what may have changed."""
        self.show_state()
        self.reload()

    def on_sync_data_changed(self, _message: SyncDataChanged) -> None:
        """A sync ended: new refusals may have come."""
        if self.is_mounted:
            self.reload()

    # ------------------------------------------------------------ status

    def show_state(self) -> None:
        """The connection, last sync, next retry and last error (from the App's snapshot)."""
        app = self.app_
        status: SyncStatus | None = app.sync_status
        services = app.services
        if app.background is None or status is None:
            problem = app.sync_problem or TEXT["unknown"]
            self.query_one("#sync-state", Static).update(Text(TEXT["no_sync"].format(problem=problem)))
            self.refresh_bindings()
            return
        if status.running:
            state = TEXT["running"]
        elif status.online is None:
            state = TEXT["unknown"]
        else:
            state = TEXT["online"] if status.online else TEXT["offline"]
        lines = [TEXT["hall"].format(url=services.settings.server, state=state)]
        last = TEXT["last_sync"].format(at=_local(status.last_sync_at) or TEXT["never"])
        if status.next_retry_at is not None and not status.running:
            last += TEXT["next_retry"].format(at=_local(status.next_retry_at, with_date=False))
        lines.append(last + "　" + TEXT["pending"].format(pending=services.pending_operations()))
        if status.last_error:
            lines.append(TEXT["error"].format(error=status.last_error))
        if status.auth_required:
            lines.append(TEXT["reauth_hint"])
        text = Text("\n".join(lines))
        if status.audit_alarm:
            # The hall rejected this station's audit head: shown until it accepts one again.
            text.append("\n" + TEXT["audit_alarm"].format(alarm=status.audit_alarm), style="bold red")
        self.query_one("#sync-state", Static).update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F6 only while the hall waits for a new sign-in; F5 only when there is a hall."""
        background = self.app_.background
        if action == "reauth":
            return background is not None and background.needs_sign_in
        if action == "sync_now":
            return background is not None
        return True

    # ------------------------------------------------------------ refused operations

    def reload(self) -> None:
        """Every refused operation (reviewed ones too, marked with who), oldest first."""
        table = self.query_one("#refused-table", DataTable)
        background = self.app_.background
        self.rows = background.service.refused(include_reviewed=True) if background is not None else []
        unread = sum(1 for r in self.rows if r.reviewed_by is None)
        title = TEXT["title"].format(unread=unread, total=len(self.rows)) if self.rows else TEXT["none"]
        self.query_one("#refused-title", Static).update(title)
        self.reason_width = flexible_width(screen_width(self), (CASE_NO, OPERATION, CODE, REVIEWED))
        cursor = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for row in self.rows:
                table.add_row(*self._cells(row), key=row.op_id)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        self._show_detail(table.cursor_row)

    def _cells(self, row: RefusedOperation) -> tuple[Text, ...]:
        return (
            fit(row.case_no or "", CASE_NO),
            fit(_operation(row), OPERATION),
            fit(row.code, CODE),
            fit(row.reason, self.reason_width),
            fit(row.reviewed_by or "", REVIEWED, style="green"),
        )

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#refused-detail", Static)
        if not 0 <= index < len(self.rows):
            detail.update("")
            return
        row = self.rows[index]
        text = TEXT["detail"].format(reason=row.reason, action=row.action_zh)
        if row.winner:
            text += TEXT["winner"].format(winner=row.winner)
        if row.reviewed_by:
            text += TEXT["reviewed"].format(by=row.reviewed_by, at=_local_text(row.reviewed_at))
        detail.update(Text(text))

    @on(DataTable.RowHighlighted, "#refused-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    @on(DataTable.RowSelected, "#refused-table")
    def _acknowledge(self, event: DataTable.RowSelected) -> None:
        """Enter: 已阅, recorded with the signed-in staff member (the operation is kept)."""
        member = self.app_.member
        background = self.app_.background
        if member is None or background is None or not 0 <= event.cursor_row < len(self.rows):
            return
        row = self.rows[event.cursor_row]
        if row.reviewed_by:
            self.app.notify(TEXT["already"].format(by=row.reviewed_by, at=_local_text(row.reviewed_at)))
            return
        done = background.service.acknowledge(row.op_id, member.staff_no)
        self.app.notify(TEXT["acknowledged"].format(by=done.reviewed_by, case=row.case_no or row.op_id[:12]))
        self.reload()
        self.app_.refresh_status_bars()

    # ------------------------------------------------------------ keys

    def action_sync_now(self) -> None:
        """F5: sync now (the same as Ctrl+Y anywhere)."""
        self.app_.action_sync_now()

    def action_reauth(self) -> None:
        """F6: the password again, for the hall."""
        self.app_.lock(reauth=True)

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()
