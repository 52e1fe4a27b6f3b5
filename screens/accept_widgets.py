"""The acceptance form's own widgets: the item search box, the material checklist, and the
identity check panel (身份核验, 授权委托书, 帮办代办, the enterprise's 办事专员)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Input, Label, Select

from models.enums import VerdictKind
from models.identity_check import DEFAULT_METHOD, IdentityCheck, IdentityMethod, Specialist
from screens.accept_text import TEXT
from window_client.services.tolerance import Verdict

METHODS = tuple(IdentityMethod)


class SearchInput(Input):
    """The item search box: ↑/↓ move the highlighted result."""

    BINDINGS = [
        Binding("down", "screen.move_result(1)", show=False, id="accept.result_down"),
        Binding("up", "screen.move_result(-1)", show=False, id="accept.result_up"),
    ]


class Checklist(DataTable[str | Text]):
    """The material checklist; one key marks each line."""

    BINDINGS = [
        Binding(
            "space,enter",
            "screen.mark('presented')",
            "已收",
            id="checklist.presented",
            tooltip="本项材料已收",
        ),
        Binding(
            "e",
            "screen.mark('e_license')",
            "电子",
            id="checklist.e_license",
            tooltip="以电子证照代替（免提交）",
        ),
        Binding("x,delete", "screen.mark('missing')", "缺", id="checklist.missing", tooltip="本项材料缺"),
    ]


def verdict_text(verdict: Verdict) -> Text:
    """The tolerance verdict beside the checklist: the conclusion, the reasons, the 补正 limits."""
    text = Text(TEXT["verdict"][verdict.kind], style="bold")
    text.stylize({"complete": "green", "tolerable": "yellow", "not_acceptable": "red"}[verdict.kind.value])
    if verdict.needs_supervisor:
        text.append("，" + TEXT["supervisor_needed"], style="bold yellow")
    for reason in verdict.reasons:
        text.append("\n·" + reason.zh())  # no space: a long reason would wrap after it
    for missing in verdict.missing_tolerable:
        if verdict.kind is VerdictKind.TOLERABLE and missing.supplement:
            text.append("\n" + TEXT["supplement"].format(name=missing.name, limit=missing.supplement.zh()))
    return text


class IdentityPanel(Vertical):
    """How the applicant's identity is checked (身份证原件 unless the clerk says otherwise), the
    agent's 授权委托书, the 帮办代办 mark, and the enterprise's 办事专员 when it has one."""

    def __init__(self) -> None:
        super().__init__(id="identity")
        self.specialist: Specialist | None = None

    def compose(self) -> ComposeResult:
        yield Select(
            [(TEXT["methods"][m], m) for m in METHODS],
            value=DEFAULT_METHOD,
            allow_blank=False,
            compact=True,
            id="identity-method",
        )
        with Horizontal(id="identity-flags"):
            yield Checkbox(TEXT["power_of_attorney"], compact=True, disabled=True, id="power-of-attorney")
            yield Checkbox(TEXT["assisted"], compact=True, id="assisted")
        yield Label("", id="identity-note")

    @property
    def _select(self) -> Select[IdentityMethod]:
        return self.query_one("#identity-method", Select)

    @property
    def method(self) -> IdentityMethod:
        """The method chosen (the Select never goes blank)."""
        value = self._select.value
        return value if isinstance(value, IdentityMethod) else DEFAULT_METHOD

    @property
    def check(self) -> IdentityCheck:
        """What the form records of the identity check."""
        method = self.method
        attorney = self.query_one("#power-of-attorney", Checkbox).value and method is IdentityMethod.AGENT
        return IdentityCheck(method, power_of_attorney=attorney)

    @property
    def assisted(self) -> bool:
        """帮办代办: the station officer fills the forms in for the enterprise."""
        return self.query_one("#assisted", Checkbox).value

    def choose(self, method: IdentityMethod) -> None:
        """Set the method (the F5 key, or an agent typed in)."""
        self._select.value = method

    def cycle(self) -> None:
        """The next method, round the list."""
        self.choose(METHODS[(METHODS.index(self.method) + 1) % len(METHODS)])

    def toggle_assisted(self) -> None:
        """Mark (or unmark) the case 帮办代办."""
        box = self.query_one("#assisted", Checkbox)
        box.value = not box.value

    def agent_typed(self, present: bool) -> None:
        """An agent named on the form comes with the 授权委托书 check, and goes without it."""
        if present and self.method is DEFAULT_METHOD:
            self.choose(IdentityMethod.AGENT)
        elif not present and self.method is IdentityMethod.AGENT:
            self.choose(DEFAULT_METHOD)

    def show_specialist(self, specialist: Specialist | None) -> None:
        """The applicant's 办事专员 (None: a person, or an enterprise without one)."""
        self.specialist = specialist
        self._note()

    def reset(self) -> None:
        """Back to 身份证原件, no agent, not 帮办代办, no 专员."""
        self.choose(DEFAULT_METHOD)
        self.query_one("#power-of-attorney", Checkbox).value = False
        self.query_one("#assisted", Checkbox).value = False
        self.show_specialist(None)

    @on(Select.Changed, "#identity-method")
    def _method_changed(self) -> None:
        agent = self.method is IdentityMethod.AGENT
        box = self.query_one("#power-of-attorney", Checkbox)
        box.disabled = not agent
        if not agent:
            box.value = False
        self._note()

    def _note(self) -> None:
        parts = []
        if self.specialist is not None:
            parts.append(TEXT["specialist"].format(who=self.specialist.zh))
        if self.method is IdentityMethod.FACE:
            parts.append(TEXT["slip_hint"])
        self.query_one("#identity-note", Label).update(Text("｜".join(parts)))
