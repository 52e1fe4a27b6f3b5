"""The evaluator pad (窗口评价器): the applicant rates the service of the window they stand at.

It follows one window: every second it asks the rating service for the window's latest case of
the day that has no rating from the pad yet, and offers it. The applicant presses 5 … 1
(非常满意 … 非常不满意) or 0 (不评价, recorded as 未评价); for 不满意/非常不满意 they pick the
reasons (1–5, several) and may type a few words, then Enter. Everything on screen is Chinese,
and held here in :data:`TEXT`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from models.problems import DomainError
from models.rating import LEVEL_ZH, LEVELS, REASON_ZH, TEXT_LIMIT, Reason, is_bad

if TYPE_CHECKING:
    from window_client.services.ratings import PendingRating, RatingRecord, RatingService

TEXT: dict[str, Any] = {
    "title": "好差评 · {window}号窗口",
    "waiting": "请稍候：窗口办理完成后，可在此对本次服务作出评价。",
    "case": "办件编号：{case_no}\n办理事项：{item}",
    "ask": "请对本次服务作出评价（按数字键）：",
    "level": "  [{key}] {name}",
    "decline": "  [0] 不评价",
    "reasons": "请选择不满意的原因（按数字键，可多选），按回车提交：",
    "reason": "  [{key}] {mark} {name}",
    "checked": "☑",
    "unchecked": "☐",
    "text_hint": "其他意见（可不填，按 T 填写）",
    "your_level": "您的评价：{level}",
    "need_reason": "请至少选择一项原因。",
    "thanks": "感谢您的评价！您的评价：{level}",
    "thanks_declined": "已记录为未评价。感谢您的配合！",
    "refused": "未能记录：{reason}",
    "submit": "提交",
    "back": "返回",
    "decline_key": "不评价",
    "write": "填写意见",
    "refresh": "刷新",
}
REASON_KEYS = {str(index): reason for index, reason in enumerate(Reason, start=1)}
THANKS_SECONDS = 5.0


class Stage(StrEnum):
    """What the pad shows."""

    WAITING = "waiting"
    LEVELS = "levels"
    REASONS = "reasons"
    THANKS = "thanks"


class EvaluatorScreen(Screen[None]):
    """Follows one window and records the applicant's rating through the rating service.

    Args:
        service: the station's rating service (the pad's only way to the store).
        window: the window followed (``01``).
        today: the working day.
        poll_seconds: how often to look for a new case (0: only on F5, for tests).
    """

    AUTO_FOCUS = None  # digits are the applicant's keys: the text field takes them only after T

    BINDINGS = [
        *(Binding(str(n), f"digit('{n}')", str(n), show=False, id=f"pad.digit{n}") for n in range(1, 6)),
        Binding("0", "decline", TEXT["decline_key"], id="pad.decline"),
        Binding("t", "write", TEXT["write"], id="pad.write"),
        Binding("enter", "submit", TEXT["submit"], id="pad.submit"),
        Binding("escape", "back", TEXT["back"], id="pad.back"),
        Binding("f5", "poll", TEXT["refresh"], show=False, id="pad.refresh"),
    ]

    @dataclass
    class Polled(Message):
        """What the window's latest case is (None: nothing to rate)."""

        pending: PendingRating | None

    @dataclass
    class Recorded(Message):
        """A rating was recorded, or refused with a Chinese reason."""

        record: RatingRecord | None
        refusal: str | None = None

    def __init__(
        self,
        service: RatingService,
        window: str,
        today: Callable[[], dt.date],
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.service = service
        self.window = window
        self.today = today
        self.poll_seconds = poll_seconds
        self.stage = Stage.WAITING
        self.pending: PendingRating | None = None
        self.level: int | None = None
        self.reasons: set[Reason] = set()
        self.note = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="pad"):
            yield Static(Text(TEXT["title"].format(window=self.window)), id="pad-title")
            yield Static(id="pad-body")
            yield Input(placeholder=TEXT["text_hint"], max_length=TEXT_LIMIT, id="pad-text")
            yield Static(id="pad-note")
        yield Footer()

    def on_mount(self) -> None:
        """Look for a case now, then every ``poll_seconds``."""
        self.query_one("#pad-text", Input).display = False
        self._paint()
        self.action_poll()
        if self.poll_seconds > 0:
            self.set_interval(self.poll_seconds, self.action_poll)

    # ------------------------------------------------------------ following the window

    def action_poll(self) -> None:
        """Ask the service for the window's case to rate (in a worker: it reads the store)."""
        self._poll(self.today())

    @work(thread=True, exclusive=True, exit_on_error=False, group="pad-poll", name="pad poll")
    def _poll(self, day: dt.date) -> None:
        self.post_message(self.Polled(self.service.pending_for_window(self.window, day)))

    def on_evaluator_screen_polled(self, message: Polled) -> None:
        """Offer a new case; a rating in progress is never interrupted."""
        if self.stage in (Stage.LEVELS, Stage.REASONS):
            return
        if message.pending is None:
            if self.stage is Stage.WAITING:
                self.pending = None
            return
        pending = self.pending
        if self.stage is Stage.THANKS and pending is not None and message.pending.case_no == pending.case_no:
            return
        self._start(message.pending)

    def _start(self, pending: PendingRating) -> None:
        self.pending, self.level, self.reasons, self.note = pending, None, set(), ""
        self._go(Stage.LEVELS)

    # ------------------------------------------------------------ the applicant's keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys only where they mean something."""
        if action == "digit":
            return self.stage in (Stage.LEVELS, Stage.REASONS)
        if action == "decline":
            return self.stage is Stage.LEVELS
        if action in ("submit", "back", "write"):
            return self.stage is Stage.REASONS
        return True

    def action_digit(self, key: str) -> None:
        """A level (5 … 1), or a reason toggled on the reasons page."""
        if self.stage is Stage.LEVELS:
            self.level = int(key)
            if is_bad(self.level):
                self._go(Stage.REASONS)
            else:
                self._record()
        elif self.stage is Stage.REASONS:
            self.reasons ^= {REASON_KEYS[key]}
            self.note = ""
            self._paint()

    def action_decline(self) -> None:
        """不评价: recorded as 未评价."""
        self.level = None
        self._record()

    def action_write(self) -> None:
        """Type a few words with the 差评."""
        self.query_one("#pad-text", Input).focus()

    def action_submit(self) -> None:
        """Send the 差评 with its reasons."""
        if not self.reasons:
            self.note = TEXT["need_reason"]
            self._paint()
            return
        self._record()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the text field submits too."""
        event.stop()
        self.set_focus(None)
        self.action_submit()

    def action_back(self) -> None:
        """Back to the five levels."""
        self.set_focus(None)
        self.level, self.reasons, self.note = None, set(), ""
        self._go(Stage.LEVELS)

    # ------------------------------------------------------------ recording

    def _record(self) -> None:
        if self.pending is None:
            return
        text = self.query_one("#pad-text", Input).value if self.stage is Stage.REASONS else None
        reasons = [reason.value for reason in Reason if reason in self.reasons]
        self._write(self.pending.case_no, self.level, reasons, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pad-write", name="pad rating")
    def _write(self, case_no: str, level: int | None, reasons: list[str], text: str | None) -> None:
        try:
            if level is None:
                record = self.service.decline(case_no, on=self.today())
            else:
                record = self.service.record(case_no, level, reasons, text, on=self.today())
        except DomainError as exc:
            self.post_message(self.Recorded(None, exc.problem.zh()))
            return
        self.post_message(self.Recorded(record))

    def on_evaluator_screen_recorded(self, message: Recorded) -> None:
        """Thank the applicant (or say why it was not recorded), then wait for the next case."""
        if message.record is None:
            self.note = TEXT["refused"].format(reason=message.refusal)
            self._paint()
            return
        record = message.record
        self.note = (
            TEXT["thanks_declined"] if record.level is None else TEXT["thanks"].format(level=record.level_zh)
        )
        self._go(Stage.THANKS)
        self.set_timer(THANKS_SECONDS, self._after_thanks)

    def _after_thanks(self) -> None:
        if self.stage is Stage.THANKS:
            self.pending, self.note = None, ""
            self._go(Stage.WAITING)

    # ------------------------------------------------------------ showing it

    def _go(self, stage: Stage) -> None:
        self.stage = stage
        field = self.query_one("#pad-text", Input)
        field.display = stage is Stage.REASONS
        if stage is not Stage.REASONS:
            field.value = ""
            self.set_focus(None)
        self._paint()
        self.refresh_bindings()

    def _paint(self) -> None:
        self.query_one("#pad-body", Static).update(Text(self._body()))
        self.query_one("#pad-note", Static).update(Text(self.note))

    def _body(self) -> str:
        if self.stage is Stage.WAITING or self.pending is None:
            return str(TEXT["waiting"])
        head: str = TEXT["case"].format(case_no=self.pending.case_no, item=self.pending.item_name)
        if self.stage is Stage.THANKS:
            return head
        if self.stage is Stage.LEVELS:
            lines = [TEXT["level"].format(key=level, name=LEVEL_ZH[level]) for level in LEVELS]
            return "\n".join([head, "", TEXT["ask"], *lines, TEXT["decline"]])
        marks = [
            TEXT["reason"].format(
                key=key,
                mark=TEXT["checked"] if reason in self.reasons else TEXT["unchecked"],
                name=REASON_ZH[reason],
            )
            for key, reason in REASON_KEYS.items()
        ]
        level = LEVEL_ZH[self.level] if self.level is not None else ""
        return "\n".join([head, TEXT["your_level"].format(level=level), TEXT["reasons"], *marks])
