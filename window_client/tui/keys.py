"""Typed keys handed to the screen one at a time, each once what the key before set off is done.

Textual gives a key to the widget focused when the key is read, while what an earlier key does
(a field's Enter handled by its screen, a Tab or a ``focus()``) happens a few message hops
later. Keys that arrive together would all land in the first field: typed while the counter
opens, by a card reader or by a quick typist, "C001<Tab>demo-1234" became the staff number
"C001demo-1234", and an item chosen with Enter followed by the applicant's ID put the ID into
the search box. Keys typed at human speed pass straight through: the wait is over before the
next key arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

# How long a typed key waits at most for what the key before it set off (a handler that
# never answers must not freeze the keyboard).
KEY_SETTLE_TIMEOUT_SECONDS = 0.5


class KeyOrder:
    """The queue of keys read from the terminal and not yet handed out, for one App.

    Args:
        app: the App whose screens get the keys.
    """

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._typed: list[events.Key] = []  # read from the terminal, not yet handed out
        self._released: set[int] = set()  # ids of keys handed out, on their way back in
        self._typing: asyncio.Task[None] | None = None

    def hold(self, key: events.Key) -> bool:
        """Queue a key read from the terminal (True: the App must not handle it yet); a key
        this queue handed out comes back through here and passes (False)."""
        if id(key) in self._released:
            self._released.discard(id(key))
            return False
        self._typed.append(key)
        if self._typing is None or self._typing.done():
            self._typing = asyncio.create_task(self._hand_out())
        return True

    async def _hand_out(self) -> None:
        while self._typed:
            key = self._typed.pop(0)
            self._released.add(id(key))
            if not self.app.post_message(key):
                self._released.discard(id(key))
                return
            await self._settle()

    async def _settle(self) -> None:
        """Wait until the App has handed on the last key, the focused widget and its ancestors
        have handled what it set off (a Submitted bubbling to the screen), and the App has run
        the callbacks those posted (``focus()``); twice, for a screen that opens on the way."""
        app = self.app
        for _ in range(2):
            await self._drained(app)
            focused = app.screen.focused
            chain = list(focused.ancestors_with_self) if focused is not None else [app.screen]
            for node in chain:
                if node is not app:
                    await self._drained(node)
            await self._drained(app)

    @staticmethod
    async def _drained(pump: MessagePump) -> None:
        """Wait until ``pump`` has handled the messages posted to it so far (not if it closed)."""
        done = asyncio.Event()
        if pump.call_later(done.set):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), KEY_SETTLE_TIMEOUT_SECONDS)
