"""统一出证 and 领取/寄递: approved cases waiting for their certificate, certificates waiting to be
handed out, the QR code, the printable form and verification — all from the keyboard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from models.certificates import HANDOVER_ZH, VERIFY_STATUS_ZH, CertificateView, Verification, VerifyStatus
from models.identity import check_name, check_person_id
from models.problems import DomainError, Problem
from screens.context import Counter, counter
from screens.dialogs import ConfirmDialog, ErrorDialog, SupervisorDialog
from screens.status import StatusBar

if TYPE_CHECKING:
    from window_client.services.staff import StaffMember

CSS_PATH = str(Path(__file__).with_suffix(".tcss"))

TEXT: dict[str, Any] = {
    "filter": "筛选：办件编号、申请人姓名或证照标识",
    "awaiting_title": "待出证（办结准予，共{count}件）",
    "awaiting_columns": ("办件编号", "申请人", "事项", "证照"),
    "waiting_title": "待领取证照（共{count}件）",
    "waiting_columns": ("证照标识（尾号）", "证照", "持证主体", "颁发日期"),
    "issue": "出证",
    "collect": "领取",
    "mail": "寄递",
    "qr": "二维码",
    "print": "打印",
    "verify": "核验",
    "back": "返回",
    "confirm_issue": "为办件 {case_no}（{name}）出具：{types}\n有效期{years}。确认出证？",
    "years": "{n}年",
    "long_term": "长期有效",
    "issued": "已出证：{identifier}",
    "key_approval": "本站尚无经值班长批准的签章密钥：出证前须值班长登录确认（密钥随下次同步报总台登记）",
    "key_not_approved": "未经值班长确认，未出证",
    # CUPS has no HTML renderer and a certificate needs its QR code: the page goes to a browser.
    "printed": "证照打印页（A4，含二维码）已保存：{path}；请用浏览器打开后打印",
    "print_failed": "保存失败：{reason}",
    "select_case": "请先在“待出证”中选择办件",
    "select_certificate": "请先在“待领取”中选择证照",
    "handed": "已交付：{identifier}（{how}）",
    # QR dialog
    "qr_title": "{type_name} · {holder}",
    "qr_lines": (
        "证照标识：\n{identifier}\n\n持证主体：\n{holder}\n{id_type}\n{masked}\n\n颁发：{issued}\n有效期至：{until}"
    ),
    "qr_save": "保存打印页",
    "close": "关闭",
    # handover dialog
    "collect_title": "领取登记（核验领取人身份证）",
    "mail_title": "寄递登记",
    "collector_id": "领取人身份证号",
    "collector_name": "领取人姓名",
    "agent_on": "代领：是（F5切换）",
    "agent_off": "代领：否，持证人本人领取（F5切换）",
    "org_hint": "单位证照：须由经办人代领",
    "tracking": "快递单号",
    "holder_line": "证照：{type_name}  持证主体：{holder}（{masked}）",
    "confirm": "确认",
    "toggle_agent": "代领",
    "cancel": "取消",
    "id_ok": "✓ 身份证号校验通过",
    "id_match": "✓ 与持证人一致",
    "id_other": "与持证人不一致：他人代领请按F5",
    # verify dialog
    "verify_title": "证照核验（扫码或粘贴二维码内容，回车核验）",
    "verify_input": "二维码内容（一串数字，或ZZ1:…）",
    "verify_result": "{status}：{reason}",
    "verify_details": (
        "证照标识：{identifier}\n证照：{type_name}\n持证主体：{holder}（{masked}）\n有效期至：{until}"
    ),
}


def _tail(identifier: str) -> str:
    """The distinctive end of an identifier (serial, version, check) for narrow tables."""
    return ".".join(identifier.split(".")[-3:])


# ---------------------------------------------------------------- dialogs


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


# ---------------------------------------------------------------- the screen


class CertificateScreen(Screen[None]):
    """统一出证 window: issue, show the QR code, print, hand over, verify."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("f2", "issue", TEXT["issue"], id="certificate.issue"),
        Binding("f3", "collect", TEXT["collect"], id="certificate.collect"),
        Binding("f4", "mail", TEXT["mail"], id="certificate.mail"),
        Binding("f5", "show_qr", TEXT["qr"], id="certificate.qr"),
        Binding("f8", "print", TEXT["print"], id="certificate.print"),
        Binding("f9", "verify", TEXT["verify"], id="certificate.verify"),
        Binding("escape", "back", TEXT["back"], id="certificate.back"),
    ]

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder=TEXT["filter"], id="certificate-filter", max_length=80)
        yield Static("", id="awaiting-title", classes="section-title")
        yield DataTable(id="awaiting-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="waiting-title", classes="section-title")
        yield DataTable(id="waiting-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Fill both queues; the cursor starts on the oldest approved case."""
        self.query_one("#awaiting-table", DataTable).add_columns(*TEXT["awaiting_columns"])
        self.query_one("#waiting-table", DataTable).add_columns(*TEXT["waiting_columns"])
        self.reload()
        self.query_one("#awaiting-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a dialog or another screen."""
        self.reload()

    @on(Input.Changed, "#certificate-filter")
    def _filter_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Both queues from SQLite (one page each)."""
        services = self.app_.services
        today = self.app_.today()
        needle = self.query_one("#certificate-filter", Input).value.strip()
        awaiting = services.certificates.awaiting_issue(today)
        waiting = services.certificates.list_issued(waiting=True)
        if needle:
            awaiting = [a for a in awaiting if needle in a.case.case_no or needle in a.case.applicant_name]
            waiting = [
                w
                for w in waiting
                if needle in w.identifier
                or needle in w.body.holder_name
                or any(needle in c for c in w.body.case_nos)
            ]
        self.query_one("#awaiting-title", Static).update(TEXT["awaiting_title"].format(count=len(awaiting)))
        self.query_one("#waiting-title", Static).update(TEXT["waiting_title"].format(count=len(waiting)))
        table = self.query_one("#awaiting-table", DataTable)
        table.clear()
        for a in awaiting:
            table.add_row(
                a.case.case_no,
                Text(a.case.applicant_name),
                Text(a.case.item_name),
                "、".join(t.name for t in a.types),
                key=a.case.case_no,
            )
        table = self.query_one("#waiting-table", DataTable)
        table.clear()
        for w in waiting:
            table.add_row(
                _tail(w.identifier),
                w.body.type_name,
                Text(w.body.holder_name),
                w.body.issued_on.isoformat(),
                key=w.identifier,
            )
        self.query_one(StatusBar).refresh_status()

    def _selected(self, table_id: str) -> str | None:
        table = self.query_one(table_id, DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _selected_certificate(self) -> str | None:
        """The certificate under the cursor of the waiting queue."""
        return self._selected("#waiting-table")

    # ------------------------------------------------------------ issuing

    @work(exclusive=True, group="certificate", exit_on_error=False)
    async def action_issue(self) -> None:
        """Issue the certificate of the selected approved case, then show its QR code."""
        case_no = self._selected("#awaiting-table")
        if case_no is None:
            self.app.notify(TEXT["select_case"], severity="warning")
            return
        services = self.app_.services
        from window_client.services.certificates import DEFAULT_VALID_YEARS

        case = services.cases.get(case_no, self.app_.today())
        types = "、".join(t.name for t in services.certificates.types_of(case))
        question = TEXT["confirm_issue"].format(
            case_no=case_no,
            name=case.applicant_name,
            types=types,
            years=TEXT["years"].format(n=DEFAULT_VALID_YEARS),
        )
        if not await self.app.push_screen_wait(ConfirmDialog(question)):
            return
        approver: StaffMember | None = None
        if services.certificates.needs_key_approval():
            approver = await self._key_approver()
            if approver is None:
                self.app.notify(TEXT["key_not_approved"], severity="warning")
                return
        try:
            views = services.certificates.issue([case_no], self.app_.today(), approver=approver)
        except DomainError as exc:
            self.app.push_screen(ErrorDialog(exc.problem.zh()))
            return
        self.reload()
        for view in views:
            self.app.notify(TEXT["issued"].format(identifier=view.identifier))
            await self._show(view)

    async def _key_approver(self) -> StaffMember | None:
        """The supervisor who approves this station's new signing key: the one signed in, or one
        who re-authenticates now."""
        from window_client.services.certificate_keys import may_approve

        member = self.app_.member
        station = self.app_.services.station.code
        if member is not None and may_approve(member, station):
            return member
        dialog = SupervisorDialog(self.app_.services.staff, [TEXT["key_approval"]])
        approver: StaffMember | None = await self.app.push_screen_wait(dialog)
        return approver

    async def _show(self, view: CertificateView) -> None:
        from window_client.services.certificate_print import qr_terminal

        choice = await self.app.push_screen_wait(QrDialog(view, qr_terminal(view.qr)))
        if choice == "print":
            self._save_print(view.identifier)

    @work(exclusive=True, group="certificate", exit_on_error=False)
    async def action_show_qr(self) -> None:
        """Show the selected certificate's QR code (from the waiting queue)."""
        identifier = self._selected_certificate()
        if identifier is None:
            self.app.notify(TEXT["select_certificate"], severity="warning")
            return
        await self._show(self.app_.services.certificates.get(identifier))

    def _save_print(self, identifier: str) -> None:
        from window_client.services.certificate_print import render_html

        services = self.app_.services
        view = services.certificates.get(identifier)
        folder = services.settings.home / "documents"
        path = folder / f"证照-{_tail(identifier)}.html"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(render_html(view), encoding="utf-8")
        except OSError as exc:
            self.app.push_screen(ErrorDialog(TEXT["print_failed"].format(reason=exc.strerror or exc)))
            return
        services.certificates.printed(identifier, "html", str(path))
        self.app.notify(TEXT["printed"].format(path=path))

    def action_print(self) -> None:
        """Save the printable A4 page of the selected certificate."""
        identifier = self._selected_certificate()
        if identifier is None:
            self.app.notify(TEXT["select_certificate"], severity="warning")
            return
        self._save_print(identifier)

    # ------------------------------------------------------------ handover

    def _handover(self, mail: bool) -> None:
        identifier = self._selected_certificate()
        if identifier is None:
            self.app.notify(TEXT["select_certificate"], severity="warning")
            return
        services = self.app_.services
        view = services.certificates.get(identifier)
        today: dt.date = self.app_.today()

        def attempt(request: HandoverRequest) -> Problem | None:
            try:
                done = services.certificates.handover(
                    identifier,
                    today,
                    collector_id=request.collector_id,
                    collector_name=request.collector_name,
                    agent=request.agent,
                    tracking_no=request.tracking_no,
                )
            except DomainError as exc:
                return exc.problem
            h = done.handover
            if h is not None:
                how = h.tracking_no or f"{HANDOVER_ZH[h.kind]} {h.collector_name}（{h.collector_id_masked}）"
                self.app.notify(TEXT["handed"].format(identifier=_tail(identifier), how=how))
            return None

        self.app.push_screen(HandoverDialog(view, mail, attempt), lambda _done: self.reload())

    def action_collect(self) -> None:
        """领取: the holder or an agent collects the selected certificate (ID checked)."""
        self._handover(mail=False)

    def action_mail(self) -> None:
        """寄递: the selected certificate is mailed (tracking number)."""
        self._handover(mail=True)

    # ------------------------------------------------------------ verification

    def action_verify(self) -> None:
        """Verify a scanned QR text offline (audited)."""
        services = self.app_.services
        today = self.app_.today()
        self.app.push_screen(
            VerifyDialog(lambda text: services.certificates.verify(text, today, source="tui"))
        )

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()
