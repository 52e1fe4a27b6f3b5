"""受理: pick an item, enter the applicant, tick the checklist, commit — all from the keyboard.

The tolerance verdict beside the checklist is the pure ``assess`` function re-run on every
change; committing goes through the acceptance service, which decides again with the same
rules and writes the case, its audit event and its outbox operation in one transaction.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from models.catalog import Acceptable
from models.enums import ApplicantType, ItemKind, MaterialStatus, VerdictKind
from models.identity import check_applicant_id, check_name
from screens.accept_commit import commit_request
from screens.accept_text import TEXT
from screens.accept_widgets import Checklist, IdentityPanel, SearchInput, verdict_text
from screens.context import Counter, counter
from screens.dialogs import ErrorDialog
from screens.status import StatusBar
from screens.tables import fit, flexible_width
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.tolerance import CLEAN_STANDING, ApplicantStanding, Verdict, assess

STATUS_CYCLE = (MaterialStatus.PRESENTED, MaterialStatus.E_LICENSE, MaterialStatus.MISSING)
TOLERANCE_WIDTH, STATUS_WIDTH = 6, 8  # 可容缺, 电子证照: the checklist's fixed columns
__all__ = ["TEXT", "AcceptScreen", "Checklist", "SearchInput"]


class AcceptScreen(Screen[None]):
    """The acceptance form."""

    BINDINGS = [
        Binding(
            "f5",
            "cycle_identity",
            TEXT["method_key"],
            show=False,  # the footer is full at 80 columns: the Select's label names the key
            id="accept.identity",
            tooltip="身份核验方式：身份证原件 / 电子身份证 / 人脸核验 / 代办人",
        ),
        Binding(
            "f6", "toggle_type", TEXT["toggle_type"], id="accept.toggle_type", tooltip="申请人：个人 / 单位"
        ),
        Binding(
            "f7", "all_presented", TEXT["all"], id="accept.all_presented", tooltip="清单上的材料全部已收"
        ),
        Binding(
            "f8",
            "toggle_commitment",
            TEXT["commit_key"],
            id="accept.commitment",
            tooltip="申请人签署（或撤销）容缺受理承诺书",
        ),
        Binding(
            "f12,ctrl+s",
            "commit",
            TEXT["accept"],
            id="accept.commit",
            priority=True,
            tooltip="按清单受理，出具回执或通知书",
        ),
        Binding(
            "f9",
            "toggle_assisted",
            TEXT["assisted_key"],
            show=False,  # named on its checkbox
            id="accept.assisted",
            tooltip="帮办代办：驿站专员为企业代填代办（现场受理、后台流转）",
        ),
        Binding("ctrl+r", "reset", TEXT["reset"], id="accept.reset", tooltip="清空表单，接待下一位"),
        Binding("escape", "back", TEXT["back"], id="accept.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entry: Acceptable | None = None
        self.results: list[Acceptable] = []
        self.statuses: dict[str, MaterialStatus] = {}
        self.applicant_type = ApplicantType.PERSON
        self.commitment = False
        self.standing: ApplicantStanding = CLEAN_STANDING
        self.verdict: Verdict | None = None
        self.busy = False
        self.fitted_half = 0  # the half-screen width the names were last cut for

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="accept-body"):
            with Vertical(id="accept-left"):
                yield SearchInput(placeholder=TEXT["search"], id="search", max_length=40)
                yield OptionList(id="results")
                yield Label(TEXT["no_item"], id="entry-line")
                yield Label("", id="type-line")
                yield Input(id="applicant-id", max_length=40)
                yield Label("", id="id-problem", classes="problem")
                yield Input(id="applicant-name", max_length=100)
                yield Label("", id="name-problem", classes="problem")
                yield Input(placeholder=TEXT["phone"], id="phone", max_length=20)
                yield Input(placeholder=TEXT["agent_name"], id="agent-name", max_length=100)
                yield Input(placeholder=TEXT["agent_id"], id="agent-id", max_length=40)
                yield IdentityPanel()
            with Vertical(id="accept-right"):
                yield Checklist(id="checklist", cursor_type="row")
                yield Static(TEXT["verdict_empty"], id="verdict")
                yield Static("", id="commitment-line")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Start with the search box and the station's items."""
        self.query_one(Checklist).add_columns(*TEXT["columns"])
        self._update_type()
        self._show_results("")
        self.query_one("#search", Input).focus()

    # ------------------------------------------------------------ item search

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._show_results(event.value)

    def _show_results(self, query: str) -> None:
        self.results = self.app_.services.search.search(query, 30)
        options = self.query_one("#results", OptionList)
        options.clear_options()
        self.fitted_half = self._half_width()
        width = self.fitted_half - 4  # the option list's padding and scrollbar
        tag = f"  [{TEXT['package']}]"
        for entry in self.results:
            # Cut here: a label wider than the list would wrap at the space after the code.
            text = f"{entry.code}  {entry.name}"
            label = fit(text, width - (cell_len(tag) if entry.is_package else 0))
            if entry.is_package:
                label.append(tag, style="bold")
            options.add_option(Option(label, id=entry.code))
        if self.results:
            options.highlighted = 0

    def on_resize(self, event: events.Resize) -> None:
        """Names get what a wider (or narrower) screen leaves them."""
        if not self.is_mounted or self._half_width() == self.fitted_half:
            return
        options = self.query_one("#results", OptionList)
        highlighted = options.highlighted
        self._show_results(self.query_one("#search", Input).value)
        if highlighted is not None and highlighted < len(self.results):
            options.highlighted = highlighted
        if self.entry is not None:
            table = self.query_one(Checklist)
            name_column = next(iter(table.columns))
            name_width = flexible_width(self._half_width(), (TOLERANCE_WIDTH, STATUS_WIDTH))
            for m in self.entry.materials:
                table.update_cell(m.code, name_column, fit(m.name, name_width), update_width=True)

    def _half_width(self) -> int:
        """Columns of one half of the form (the search and applicant side, or the checklist)."""
        return max(20, (self.size.width or self.app.size.width) // 2)

    def action_move_result(self, step: int) -> None:
        """Move the highlighted search result."""
        options = self.query_one("#results", OptionList)
        if self.results:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self.results) - 1, current + step))

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        options = self.query_one("#results", OptionList)
        if options.highlighted is None or not self.results:
            return
        self._choose(self.results[options.highlighted])

    @on(OptionList.OptionSelected, "#results")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(self.results[event.option_index])

    def _choose(self, entry: Acceptable) -> None:
        self.entry = entry
        kind = TEXT["package"] if entry.is_package else (
            TEXT["instant"] if entry.kind is ItemKind.INSTANT else TEXT["promised"]
        )  # fmt: skip
        line = TEXT["item_line"].format(name=entry.name, kind=kind, promised=entry.promised.zh())
        self.query_one("#entry-line", Label).update(fit(line, self._half_width() - 2))
        self.statuses = {m.code: MaterialStatus.MISSING for m in entry.materials}
        table = self.query_one(Checklist)
        table.clear()
        name_width = flexible_width(self._half_width(), (TOLERANCE_WIDTH, STATUS_WIDTH))
        for m in entry.materials:
            table.add_row(fit(m.name, name_width), TEXT["tolerance"][m.tolerance.value], "", key=m.code)
        self._refresh_checklist()
        self.query_one("#applicant-id", Input).focus()

    # ------------------------------------------------------------ applicant

    def action_toggle_type(self) -> None:
        """Person ↔ organisation."""
        self.applicant_type = (
            ApplicantType.ORG if self.applicant_type is ApplicantType.PERSON else ApplicantType.PERSON
        )
        self._update_type()
        self._check_id(self.query_one("#applicant-id", Input).value)

    def _update_type(self) -> None:
        person = self.applicant_type is ApplicantType.PERSON
        self.query_one("#type-line", Label).update(
            TEXT["type_line"].format(kind=TEXT["person"] if person else TEXT["org"])
        )
        self.query_one("#applicant-id", Input).placeholder = TEXT["id_person"] if person else TEXT["id_org"]
        self.query_one("#applicant-name", Input).placeholder = (
            TEXT["name_person"] if person else TEXT["name_org"]
        )

    @on(Input.Changed, "#applicant-id")
    def _id_changed(self, event: Input.Changed) -> None:
        self._check_id(event.value)

    def _check_id(self, value: str) -> None:
        label = self.query_one("#id-problem", Label)
        if not value.strip():
            label.update("")
            self.query_one(IdentityPanel).show_specialist(None)
            return
        number, problem = check_applicant_id(self.applicant_type, value)
        label.update(Text(problem.zh() if problem else TEXT["ok"]))
        label.set_class(problem is not None, "bad")
        standing = CLEAN_STANDING
        specialist = None
        if problem is None:
            standing = self.app_.services.acceptance.standing_of(number)
            specialist = self.app_.services.assistance.specialist_for(self.applicant_type, number)
        self.query_one(IdentityPanel).show_specialist(specialist)
        if standing != self.standing:
            self.standing = standing
            self.refresh_verdict()

    @on(Input.Changed, "#applicant-name")
    def _name_changed(self, event: Input.Changed) -> None:
        problem = check_name(event.value, self.applicant_type) if event.value else None
        self.query_one("#name-problem", Label).update(Text(problem.zh()) if problem else "")

    @on(Input.Submitted, "#applicant-id")
    def _id_submitted(self, event: Input.Submitted) -> None:
        """Enter on a valid ID moves on; on an invalid one the cursor stays, with the problem."""
        _, problem = check_applicant_id(self.applicant_type, event.value)
        if problem is not None:
            label = self.query_one("#id-problem", Label)
            label.update(Text(problem.zh()))
            label.set_class(True, "bad")
            return
        self.query_one("#applicant-name", Input).focus()

    @on(Input.Submitted, "#applicant-name")
    def _name_submitted(self, event: Input.Submitted) -> None:
        """Enter on a valid name moves to the checklist; on an invalid one the cursor stays."""
        problem = check_name(event.value, self.applicant_type)
        if problem is not None:
            self.query_one("#name-problem", Label).update(Text(problem.zh()))
            return
        self.query_one(Checklist).focus()

    @on(Input.Submitted, "#phone, #agent-name, #agent-id")
    def _other_submitted(self) -> None:
        self.focus_next()

    @on(Input.Changed, "#agent-name, #agent-id")
    def _agent_changed(self) -> None:
        present = any(self.query_one(f"#{name}", Input).value.strip() for name in ("agent-name", "agent-id"))
        self.query_one(IdentityPanel).agent_typed(present)

    def action_cycle_identity(self) -> None:
        """The next identity check method (身份证原件 → 电子身份证 → 人脸核验 → 代办人)."""
        self.query_one(IdentityPanel).cycle()

    def action_toggle_assisted(self) -> None:
        """Mark (or unmark) the case 帮办代办."""
        self.query_one(IdentityPanel).toggle_assisted()

    # ------------------------------------------------------------ checklist

    def action_mark(self, status: str) -> None:
        """Mark the material under the cursor."""
        table = self.query_one(Checklist)
        if self.entry is None or not table.row_count:
            return
        code = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.statuses[code] = MaterialStatus(status)
        self._refresh_checklist()
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_all_presented(self) -> None:
        """Everything on the checklist was handed in."""
        if self.entry is None:
            return
        self.statuses = {m.code: MaterialStatus.PRESENTED for m in self.entry.materials}
        self._refresh_checklist()

    def _refresh_checklist(self) -> None:
        table = self.query_one(Checklist)
        status_column = list(table.columns)[2]
        for code, status in self.statuses.items():
            label = Text(
                TEXT["status"][status.value],
                style="red" if status is MaterialStatus.MISSING else "",
            )
            table.update_cell(code, status_column, label)
        self.refresh_verdict()

    def action_toggle_commitment(self) -> None:
        """Record (or withdraw) the applicant's signature on the 承诺书."""
        self.commitment = not self.commitment
        self.refresh_verdict()

    def refresh_verdict(self) -> None:
        """Assess the checklist again and show the verdict (and the 承诺书 line)."""
        box = self.query_one("#verdict", Static)
        if self.entry is None:
            self.verdict = None
            box.update(TEXT["verdict_empty"])
            return
        verdict = assess(self.entry, self.statuses, self.standing, self.app_.services.settings.policy)
        self.verdict = verdict
        box.update(verdict_text(verdict))
        line = self.query_one("#commitment-line", Static)
        if verdict.kind is VerdictKind.TOLERABLE:
            line.update(TEXT["commitment_on"] if self.commitment else TEXT["commitment_off"])
        else:
            line.update("")

    # ------------------------------------------------------------ commit

    def _request(self) -> AcceptanceRequest | None:
        if self.entry is None:
            return None
        value = {w.id: w.value for w in self.query(Input)}
        return AcceptanceRequest(
            entry_code=self.entry.code,
            applicant=Applicant(
                type=self.applicant_type,
                id=value["applicant-id"],
                name=value["applicant-name"],
                phone=value["phone"].strip(),
                agent_name=value["agent-name"].strip(),
                agent_id=value["agent-id"].strip(),
            ),
            presented=dict(self.statuses),
            commitment=self.commitment,
            channel=self.app_.services.channel,
            identity=self.query_one(IdentityPanel).check,
            assisted=self.query_one(IdentityPanel).assisted,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No second commit while one is being written."""
        return not (action == "commit" and self.busy)

    @work(exclusive=True, group="accept-commit", exit_on_error=False)
    async def action_commit(self) -> None:
        """Decide, ask for what is missing (commitment, supervisor), write, show the document."""
        request = self._request()
        if request is None:
            self.app.push_screen(ErrorDialog(TEXT["nothing"]))
            return
        self.busy = True
        try:
            await commit_request(self, request)
        finally:
            self.busy = False

    def action_reset(self) -> None:
        """A fresh form for the next applicant; the cursor back in the search box."""
        for widget in self.query(Input):
            widget.value = ""
        self.entry = None
        self.statuses = {}
        self.commitment = False
        self.standing = CLEAN_STANDING
        self.applicant_type = ApplicantType.PERSON
        self._update_type()
        self.query_one(IdentityPanel).reset()
        self.query_one(Checklist).clear()
        self.query_one("#entry-line", Label).update(TEXT["no_item"])
        self.refresh_verdict()
        self.query_one("#search", Input).focus()
        self.query_one(StatusBar).refresh_status()

    def action_back(self) -> None:
        """Back to the workbench."""
        self.app.pop_screen()
