"""The status line shown on every working screen: station, staff, connection, unsynced work.

It shows the sync status the App keeps current (``Counter.sync_status``, from the sync
thread's snapshots): 在线/离线 as the last attempt found the hall, 同步中 while a sync runs,
待同步 N (operations still queued), 冲突/退回 N (refused operations nobody has reviewed) and
需重新登录 when the hall asked for a new sign-in. The station's name gives way (cut with …)
when the line needs the room at 80 columns.

The two counts are read in a thread worker (group ``status-bar``) and come back as a
:class:`StatusBar.Counted` message; a refresh redraws at once with the last counts, so a sync
status change shows without waiting for the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import App
from textual.message import Message
from textual.widgets import Static

from screens.context import counter

if TYPE_CHECKING:
    from window_client.services.runtime import Runtime

TEXT: dict[str, Any] = {
    "member": "{name}（{staff_no}·{role}）",
    "member_short": "{name}（{staff_no}）",
    "pending": "待同步 {pending} 项",
    "refused": "冲突/退回 {refused} 项",
    "reauth": "需重新登录",
    "offline": "离线",
    "online": "在线",
    "running": "同步中",
    "roles": {"clerk": "受理员", "supervisor": "值班长", "admin": "管理员"},
}
SEPARATOR = " │ "
# The last counts per App: a screen that opens shows them at once, then its own worker's.
_LAST_COUNTS: WeakKeyDictionary[App[Any], tuple[int, int]] = WeakKeyDictionary()
MIN_STATION = 6  # columns the station's name keeps however much else the line shows


@dataclass
class SyncDataChanged(Message):
    """A sync changed local data (a decision pulled, an operation refused): screens that show
    cases reload. Posted by the App to every open screen."""


class StatusBar(Static):
    """One line; refreshed by its screen, by every sync status change, and every few seconds."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    @dataclass
    class Counted(Message):
        """The station's queued and refused operations, as a worker just counted them."""

        pending: int
        refused: int

    counts: tuple[int, int] | None = None  # (pending, refused) as last counted

    def on_mount(self) -> None:
        """Show (with the counts the last screen had), then keep current."""
        self.counts = _LAST_COUNTS.get(self.app)
        self.refresh_status()
        self.set_interval(5, self.refresh_status)

    def refresh_status(self) -> None:
        """Redraw with the App's sync status and the last counts; count again in a worker."""
        app = counter(self)
        if app.member is None:
            return
        self._draw()
        self._count(app.services)

    @work(thread=True, exclusive=True, exit_on_error=False, group="status-bar", name="count operations")
    def _count(self, services: Runtime) -> None:
        """Two COUNT queries over indexes, off the UI thread."""
        self.post_message(self.Counted(services.pending_operations(), services.refused_operations()))

    def on_status_bar_counted(self, message: Counted) -> None:
        """Show the new counts."""
        self.counts = _LAST_COUNTS[self.app] = (message.pending, message.refused)
        self._draw()

    def _draw(self) -> None:
        app = counter(self)
        member = app.member
        if member is None or self.counts is None:
            return
        pending, refused = self.counts
        services = app.services
        status = app.sync_status
        if status is not None and status.running:
            connection = TEXT["running"]
        elif status is not None and status.online:
            connection = TEXT["online"]
        else:
            connection = TEXT["offline"]
        counts = [connection, TEXT["pending"].format(pending=pending)]
        if refused:
            counts.append(TEXT["refused"].format(refused=refused))
        if status is not None and status.auth_required:
            counts.append(TEXT["reauth"])
        role = TEXT["roles"][member.role.value]
        members = (
            TEXT["member"].format(name=member.name, staff_no=member.staff_no, role=role),
            TEXT["member_short"].format(name=member.name, staff_no=member.staff_no),
        )
        self.update(self.line(services.station.name, members, counts))

    def line(self, station: str, members: tuple[str, ...], counts: list[str]) -> Text:
        """The line: the station's name cut to what the rest leaves of the width, and the
        staff member's role left out when even that would not leave it :data:`MIN_STATION`."""
        width = (self.content_region.width or self.app.size.width - 2) or 78
        for member in members:
            rest = SEPARATOR + SEPARATOR.join([member, *counts])
            if width - cell_len(rest) >= MIN_STATION:
                break
        room = max(MIN_STATION, width - cell_len(rest))
        name = Text(station, no_wrap=True, end="")
        if cell_len(station) > room:
            name.truncate(room, overflow="ellipsis")
        text = Text.assemble(name, rest, no_wrap=True, end="")
        # (never an empty word list: its empty pattern would split every character apart)
        for count in counts:
            if count == TEXT["reauth"]:
                text.highlight_words([count], style="bold reverse")
            elif count.startswith("冲突/退回"):
                text.highlight_words([count], style="bold")
        text.truncate(width, overflow="ellipsis")
        return text
