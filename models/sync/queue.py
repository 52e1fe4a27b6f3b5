"""The hall's queue endpoints (排队叫号): the calling board and the day's figures, as JSON.

``GET /api/v1/queue/board?day=YYYY-MM-DD`` → :class:`QueueBoardDocument` (the caller's station);
``GET /api/v1/queue/report?day=YYYY-MM-DD[&station=S]`` → :class:`QueueReportDocument` (the
caller's station; an admin may name another station or leave it out for every station).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from models.queue import QueueCategory, TicketState
from models.queue_figures import Board, QueueFigures, WindowStatus


class BoardWindow(BaseModel):
    """One window on the board: the ticket it holds, or its pause."""

    window: str
    ticket: str | None = None
    category: QueueCategory | None = None
    state: TicketState | None = None
    paused: bool = False
    reason: str | None = None


class QueueBoardDocument(BaseModel):
    """A station's calling board as the hall holds it (what the station has pushed)."""

    station: str
    day: dt.date
    windows: list[BoardWindow]
    waiting: dict[QueueCategory, int]
    next_up: list[str]
    server_time: dt.datetime

    @classmethod
    def of(cls, board: Board, server_time: dt.datetime) -> QueueBoardDocument:
        """The document of a :class:`~models.queue_figures.Board`."""
        windows = [
            BoardWindow(
                window=w.window, ticket=w.ticket, category=w.category, state=w.state, paused=w.paused,
                reason=w.reason,
            )
            for w in board.windows
        ]  # fmt: skip
        return cls(
            station=board.station,
            day=board.day,
            windows=windows,
            waiting=dict(board.waiting),
            next_up=list(board.next_up),
            server_time=server_time,
        )

    def board(self) -> Board:
        """Back to the read model the calling board renders."""
        windows = tuple(
            WindowStatus(w.window, w.ticket, w.category, w.state, w.paused, w.reason) for w in self.windows
        )
        waiting = {category: int(self.waiting.get(category, 0)) for category in QueueCategory}
        return Board(self.station, self.day, windows, waiting, tuple(self.next_up), source="hall")


class QueueFiguresRow(BaseModel):
    """One group's figures (seconds, rounded to tenths)."""

    station: str
    window: str
    category: QueueCategory
    tickets: int
    served: int
    skipped: int
    mean_wait_seconds: float | None
    p90_wait_seconds: float | None
    mean_service_seconds: float | None

    @classmethod
    def of(cls, row: QueueFigures) -> QueueFiguresRow:
        """The row of a :class:`~models.queue_figures.QueueFigures`."""

        def seconds(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return cls(
            station=row.station,
            window=row.window,
            category=row.category,
            tickets=row.tickets,
            served=row.served,
            skipped=row.skipped,
            mean_wait_seconds=seconds(row.mean_wait),
            p90_wait_seconds=seconds(row.p90_wait),
            mean_service_seconds=seconds(row.mean_service),
        )


class QueueReportDocument(BaseModel):
    """The day's queue figures per station, window and category."""

    day: dt.date
    rows: list[QueueFiguresRow]
