"""The dialogs of 统一出证: the certificate with its QR code, 领取/寄递, and verification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from models.certificates import VERIFY_STATUS_ZH, CertificateView, Verification, VerifyStatus
from models.identity import check_name, check_person_id
from models.problems import Problem

if TYPE_CHECKING:
    pass

from screens.certificate.text import TEXT

CSS_PATH = str(Path(__file__).parent.with_suffix(".tcss"))  # screens/certificate.tcss


class QrDialog(ModalScreen[str]):
    """A certificate with its QR code drawn in the terminal; Ctrl+S saves the printable page."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("escape", "dismiss_with('close')", TEXT["close"], id="qr.close"),
        Binding("ctrl+s,f8", "dismiss_with('print')", TEXT["qr_save"], id="qr.print"),
    ]

    def __init__(self, view: CertificateView, drawing: str) -> None:
        super().__init__()
        self.view = view
        self.drawing = drawing

    def compose(self) -> ComposeResult:
        b = self.view.body
        with Vertical(classes="dialog qr-dialog"):
            # The code on the left, the title and the facts beside it: the drawing gets every row
            # but the keys' (23 at 80x24: a version 5 code with its 4-module quiet zone).
            with Horizontal(id="qr-body"):
                with VerticalScroll(id="qr-scroll"):
                    yield Static(Text(self.drawing.rstrip("\n"), no_wrap=True), id="qr-drawing")
                with Vertical(id="qr-side"):
                    title = TEXT["qr_title"].format(type_name=b.type_name, holder=b.holder_name)
                    yield Label(title, classes="dialog-title")
                    yield Static(
                        Text(
                            TEXT["qr_lines"].format(
                                identifier=b.identifier,
                                holder=b.holder_name,
                                id_type=b.holder_id_type.zh,
                                masked=self.view.holder_id_masked,
                                issued=b.issued_on.isoformat(),
                                until=b.valid_until.isoformat() if b.valid_until else TEXT["long_term"],
                            )
                        ),
                        id="qr-details",
                    )
            yield Footer(compact=True)

    def action_dismiss_with(self, choice: str) -> None:
        """Close, or ask the screen to save the printable page."""
        self.dismiss(choice)


@dataclass(frozen=True, slots=True)
class HandoverRequest:
    """What the handover form collected."""

    collector_id: str | None = None
    collector_name: str | None = None
    agent: bool = False
    tracking_no: str | None = None


class HandoverDialog(ModalScreen[bool]):
    """领取 (collector's ID checked live) or 寄递 (tracking number); stays open on a refusal."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("f12", "submit", TEXT["confirm"], id="handover.submit", priority=True),
        Binding("f5", "toggle_agent", TEXT["toggle_agent"], id="handover.agent"),
        Binding("escape", "cancel", TEXT["cancel"], id="handover.cancel"),
    ]

    def __init__(
        self, view: CertificateView, mail: bool, attempt: Callable[[HandoverRequest], Problem | None]
    ) -> None:
        super().__init__()
        self.view = view
        self.mail = mail
        self.attempt = attempt
        self.org = view.body.holder_id_type.value == "001"
        self.agent = self.org

    def compose(self) -> ComposeResult:
        b = self.view.body
        with Vertical(classes="dialog"):
            yield Label(TEXT["mail_title"] if self.mail else TEXT["collect_title"], classes="dialog-title")
            yield Static(
                Text(
                    TEXT["holder_line"].format(
                        type_name=b.type_name, holder=b.holder_name, masked=self.view.holder_id_masked
                    )
                )
            )
            if self.mail:
                yield Input(placeholder=TEXT["tracking"], id="tracking", max_length=30)
            else:
                yield Input(placeholder=TEXT["collector_id"], id="collector-id", max_length=18)
                yield Label("", id="collector-id-check", classes="hint")
                yield Input(placeholder=TEXT["collector_name"], id="collector-name", max_length=40)
                yield Label(self._agent_text(), id="agent-line")
            yield Label("", id="handover-message", classes="problem")
            yield Footer(compact=True)

    def _agent_text(self) -> str:
        if self.org:
            return str(TEXT["org_hint"])
        return str(TEXT["agent_on"] if self.agent else TEXT["agent_off"])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """代领 toggles only for a person's certificate collected at the window."""
        if action == "toggle_agent":
            return not (self.mail or self.org)
        return True

    @on(Input.Changed, "#collector-id")
    def _live_id_check(self, event: Input.Changed) -> None:
        label = self.query_one("#collector-id-check", Label)
        if len(event.value.strip()) < 18:
            label.update("")
            return
        number, problem = check_person_id(event.value)
        if problem is not None:
            label.update(Text(problem.zh(), style="bold red"))
        elif self.org:
            label.update(TEXT["id_ok"])
        elif number == self.view.body.holder_id:
            label.update(TEXT["id_match"])
        else:
            label.update(Text(TEXT["id_other"] if not self.agent else TEXT["id_ok"]))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it submits."""
        if event.input.id == "collector-id":
            self.query_one("#collector-name", Input).focus()
            return
        self.action_submit()

    def action_toggle_agent(self) -> None:
        """Holder in person or an agent."""
        self.agent = not self.agent
        self.query_one("#agent-line", Label).update(self._agent_text())
        box = self.query_one("#collector-id", Input)
        self._live_id_check(Input.Changed(box, box.value))

    def action_submit(self) -> None:
        """Record the handover; a refusal is shown here, the form keeps what was typed."""
        if self.mail:
            request = HandoverRequest(tracking_no=self.query_one("#tracking", Input).value)
        else:
            name = self.query_one("#collector-name", Input).value
            problem = check_name(name) if name.strip() else Problem("name.empty")
            if problem is not None:
                self.query_one("#handover-message", Label).update(Text(problem.zh()))
                return
            request = HandoverRequest(
                collector_id=self.query_one("#collector-id", Input).value,
                collector_name=name,
                agent=self.agent,
            )
        refusal = self.attempt(request)
        if refusal is not None:
            self.query_one("#handover-message", Label).update(Text(refusal.zh()))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Nothing recorded."""
        self.dismiss(False)


class VerifyDialog(ModalScreen[None]):
    """Verify a scanned or pasted QR text (a USB scanner types it and presses Enter)."""

    CSS_PATH = CSS_PATH
    BINDINGS = [Binding("escape", "close", TEXT["close"], id="verify.close")]

    def __init__(self, check: Callable[[str], Verification]) -> None:
        super().__init__()
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(TEXT["verify_title"], classes="dialog-title")
            yield Input(placeholder=TEXT["verify_input"], id="verify-text", max_length=4000)
            yield Static("", id="verify-result")
            yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Verify what was scanned; the box empties for the next scan."""
        result = self.check(event.value)
        style = "bold green" if result.status is VerifyStatus.VALID else "bold red"
        lines = Text(
            TEXT["verify_result"].format(status=VERIFY_STATUS_ZH[result.status], reason=result.problem.zh()),
            style=style,
        )
        data = result.to_dict()
        if result.payload is not None and result.status in (
            VerifyStatus.VALID, VerifyStatus.REVOKED, VerifyStatus.EXPIRED
        ):  # fmt: skip
            p = result.payload
            lines.append(
                "\n"
                + TEXT["verify_details"].format(
                    identifier=p.identifier,
                    type_name=data.get("type_name", data.get("type_code", "")),
                    holder=p.holder_name,
                    masked=p.holder_id_masked,
                    until=p.valid_until.isoformat() if p.valid_until else TEXT["long_term"],
                ),
                style="",
            )
        self.query_one("#verify-result", Static).update(lines)
        event.input.value = ""

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)
