"""Where the calling board (叫号屏) reads from: the hall when online, the station's store otherwise.

A second screen in the hall shows ``window-client queue board``; with staff credentials it
reads the hall's board (every window of the station that has synced), and falls back to the
local store, saying why, whenever the hall does not answer. Without credentials it reads the
local store only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from models.queue_figures import Board
from window_client.hall_client import AuthRequired, HallClient, HallError
from window_client.services.queue import QueueService


class BoardMode(StrEnum):
    """``--source`` of ``queue board``."""

    AUTO = "auto"  # the hall when credentials are set and it answers, else the store
    LOCAL = "local"
    HALL = "hall"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who signs in to read the hall's board."""

    staff_no: str
    password: str


class BoardSource:
    """Reads the board for each refresh of the calling board.

    Args:
        queue: the station's queue (the local store).
        client: the hall client, or None to read locally only.
        credentials: staff credentials for the hall (signed in on the first read).
    """

    def __init__(
        self, queue: QueueService, client: HallClient | None = None, credentials: Credentials | None = None
    ) -> None:
        self.queue = queue
        self.client = client
        self.credentials = credentials
        self.fallback_reason: str | None = None  # why the last read was local although the hall was asked

    def read(self, day: dt.date | None = None) -> Board:
        """The board of ``day`` (today by default): the hall's, or the local store's."""
        when = day or self.queue.today()
        self.fallback_reason = None
        if self.client is not None:
            try:
                return self._from_hall(self.client, when)
            except HallError as exc:
                self.fallback_reason = exc.message
        return self.queue.board(when)

    def _from_hall(self, client: HallClient, day: dt.date) -> Board:
        if client.token is None and self.credentials is not None:
            client.sign_in(self.credentials.staff_no, self.credentials.password, self.queue.station)
        try:
            return client.queue_board(day).board()
        except AuthRequired:
            if self.credentials is None:
                raise
            client.token = None  # expired during a long day on the wall: sign in again once
            client.sign_in(self.credentials.staff_no, self.credentials.password, self.queue.station)
            return client.queue_board(day).board()

    def close(self) -> None:
        """Close the hall connection."""
        if self.client is not None:
            self.client.close()
