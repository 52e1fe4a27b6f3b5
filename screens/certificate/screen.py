"""The 统一出证 screen: approved cases waiting for their certificate and certificates waiting to be
handed out, with the keys that issue, show, print, hand over and verify them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models.certificates import HANDOVER_ZH, CertificateView
from models.problems import DomainError, Problem
from screens.context import Counter, counter
from screens.dialogs import ConfirmDialog, ErrorDialog, SupervisorDialog
from screens.status import StatusBar

if TYPE_CHECKING:
    from window_client.services.staff import StaffMember

from screens.certificate.dialogs import CSS_PATH, HandoverDialog, HandoverRequest, QrDialog, VerifyDialog
from screens.certificate.text import TEXT, tail


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
                tail(w.identifier),
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
        path = folder / f"证照-{tail(identifier)}.html"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(render_html(view), encoding="utf-8")
        except OSError as exc:
            self.app.push_screen(ErrorDialog(TEXT["print_failed"].format(reason=exc.strerror or exc)))
            return
        services.certificates.printed(identifier, "html", str(path))
        self._send_to_printer(view, path)

    @work(thread=True, exclusive=True, group="certificate-print", exit_on_error=False)
    def _send_to_printer(self, view: CertificateView, page: Path) -> None:
        """The page as PDF to CUPS's lp, off the UI thread; the outcome (or why not) notified."""
        from window_client.services.certificate_pdf import send_certificate

        self.app.call_from_thread(self.app.notify, send_certificate(view, page).zh(), timeout=10)

    def action_print(self) -> None:
        """Save the printable A4 page of the selected certificate and send it to the printer."""
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
                self.app.notify(TEXT["handed"].format(identifier=tail(identifier), how=how))
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
