"""Modal dialogs: errors, confirmations, documents, supervisor re-authentication."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

if TYPE_CHECKING:  # the error dialog is needed before the services are loaded
    from window_client.services.documents import Document
    from window_client.services.staff import StaffMember, StaffService  # noqa: F401 (a string base)

TEXT: dict[str, Any] = {
    "error_title": "出错了",
    "close": "关闭",
    "confirm": "确定",
    "cancel": "取消",
    "save": "保存打印页",
    "saved": "打印页（A4）已保存：{path}",
    "save_failed": "保存失败：{reason}",
    "print": "打印",
    "printing": "正在送打印机……",
    "finish": "当场办结",
    "supervisor_title": "值班长审批（现场验证身份）",
    "staff_no": "值班长工号",
    "password": "密码",
}


class ErrorDialog(ModalScreen[None]):
    """An error shown to staff in Chinese; never a traceback."""

    BINDINGS = [Binding("escape,enter", "dismiss", TEXT["close"], id="dialog.close")]

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.title_text = title or TEXT["error_title"]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(Text(self.message), id="error-message")
            yield Footer(compact=True)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        """Close."""
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", TEXT["confirm"], id="dialog.yes"),
        Binding("n,escape", "answer(False)", TEXT["cancel"], id="dialog.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question))
            yield Footer(compact=True)

    def action_answer(self, value: bool) -> None:
        """Answer and close."""
        self.dismiss(value)


class DocumentDialog(ModalScreen[str]):
    """A receipt or notice on screen; F9 prints it (CUPS ``lp``), Ctrl+S saves its A4 page.
    Returns the action chosen ("close" or "finish" for 当场办结)."""

    BINDINGS = [
        Binding("escape", "close", TEXT["close"], id="document.close"),
        Binding("f9", "print", TEXT["print"], id="document.print", tooltip="送打印机，并保存A4打印页"),
        Binding("ctrl+s", "save", TEXT["save"], id="document.save", tooltip="保存A4打印页，用浏览器打印"),
        Binding("f8", "finish", TEXT["finish"], id="document.finish"),
    ]

    def __init__(self, documents: list[Document], folder: Path, can_finish: bool = False) -> None:
        super().__init__()
        self.documents = documents
        self.folder = folder
        self.can_finish = can_finish

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog document"):
            with VerticalScroll():
                for doc in self.documents:
                    yield Static(Text(doc.to_text(64)), classes="document-text")
            yield Label("", id="document-status")
            yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """当场办结 only for an instant item that was accepted."""
        if action == "finish":
            return self.can_finish
        return True

    def _status(self, message: str) -> None:
        if not self.is_current:  # closed while the job went to the printer: tell the clerk anyway
            self.app.notify(message)
            return
        self.query_one("#document-status", Label).update(Text(message))

    def action_save(self) -> None:
        """Write the documents' A4 page (HTML) beside the station's data."""
        from window_client.services.printing import page_name, save_page

        try:
            path = save_page(self.documents, self.folder / page_name(self.documents))
        except OSError as exc:
            self._status(TEXT["save_failed"].format(reason=exc.strerror or exc))
            return
        self._status(TEXT["saved"].format(path=path))

    def action_print(self) -> None:
        """Save the page and send the documents to the printer, off the UI thread."""
        self._status(TEXT["printing"])
        self._print()

    @work(thread=True, exclusive=True, group="print", exit_on_error=False)
    def _print(self) -> None:
        from window_client.services.printing import print_documents

        try:
            message = print_documents(self.documents, self.folder).zh()
        except OSError as exc:
            message = TEXT["save_failed"].format(reason=exc.strerror or exc)
        self.app.call_from_thread(self._status, message)

    def action_close(self) -> None:
        """Back to the form."""
        self.dismiss("close")

    def action_finish(self) -> None:
        """Finish the instant item at the counter."""
        self.dismiss("finish")


class SupervisorDialog(ModalScreen["StaffMember | None"]):
    """A supervisor signs in on the spot to approve."""

    BINDINGS = [Binding("escape", "cancel", TEXT["cancel"], id="supervisor.cancel")]

    def __init__(self, staff: StaffService, reasons: list[str]) -> None:
        super().__init__()
        self.staff = staff
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(TEXT["supervisor_title"], classes="dialog-title")
            for reason in self.reasons:
                yield Static(Text("· " + reason))
            yield Input(placeholder=TEXT["staff_no"], id="sup-no")
            yield Input(placeholder=TEXT["password"], password=True, id="sup-password")
            yield Label("", id="sup-message", classes="problem")
            yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter on the number moves on; on the password, verifies."""
        if event.input.id == "sup-no":
            self.query_one("#sup-password", Input).focus()
            return
        from window_client.services.staff import SignInError

        number = self.query_one("#sup-no", Input).value
        try:
            member = self.staff.verify_supervisor(number, event.value)
        except SignInError as exc:
            self.query_one("#sup-message", Label).update(Text(exc.message))
            event.input.value = ""
            return
        self.dismiss(member)

    def action_cancel(self) -> None:
        """No approval."""
        self.dismiss(None)
