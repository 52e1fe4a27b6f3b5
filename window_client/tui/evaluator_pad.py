"""``window-client evaluate --window N``: the evaluator pad as an App of its own.

A second terminal facing the applicant runs it beside the counter; it shares nothing with the
counter's App but the station's store, which it reads through the rating service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from textual.app import App

from screens.evaluator import EvaluatorScreen
from window_client.services.ratings import RatingService
from window_client.services.runtime import Runtime

CSS_PATH = str(Path(__file__).resolve().parents[2] / "screens" / "evaluator.tcss")


class EvaluatorPadApp(App[None]):
    """The evaluator pad of one window.

    Args:
        service: the station's rating service.
        window: the window it follows (``01``).
        today: the working day (default: the computer's date).
        poll_seconds: how often it looks for the window's next case (0: only on F5).
    """

    CSS_PATH = CSS_PATH
    TITLE = "好差评"

    def __init__(
        self,
        service: RatingService,
        window: str,
        today: Callable[[], dt.date] | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.service = service
        self.window = window
        self.today = today or dt.date.today
        self.poll_seconds = poll_seconds

    def on_mount(self) -> None:
        """Show the pad."""
        self.push_screen(EvaluatorScreen(self.service, self.window, self.today, self.poll_seconds))


def run_pad(runtime: Runtime, window: str, today: Callable[[], dt.date] | None = None) -> None:
    """Run the pad for ``window`` of the runtime's station until Ctrl+Q."""
    EvaluatorPadApp(runtime.ratings, window, today).run()
