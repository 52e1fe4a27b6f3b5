"""The status line shown on every working screen: station, staff, connection, unsynced work.

It shows the sync status the App keeps current (``WindowClientApp.sync_status``, from the sync
thread's snapshots): 在线/离线 as the last attempt found the hall, 同步中 while a sync runs,
待同步 N (operations still queued), 冲突/退回 N (refused operations nobody has reviewed) and
需重新登录 when the hall asked for a new sign-in. The station's name gives way (cut with …)
when the line needs the room at 80 columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from window_client.app import WindowClientApp

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

    def on_mount(self) -> None:
        """Show, then keep current."""
        self.refresh_status()
        self.set_interval(5, self.refresh_status)

    def refresh_status(self) -> None:
        """Re-read the counts (two COUNT queries) and the App's sync status."""
        app: WindowClientApp = self.app  # type: ignore[assignment]
        member = app.member
        if member is None:
            return
        services = app.services
        status = app.sync_status
        if status is not None and status.running:
            connection = TEXT["running"]
        elif status is not None and status.online:
            connection = TEXT["online"]
        else:
            connection = TEXT["offline"]
        counts = [connection, TEXT["pending"].format(pending=services.pending_operations())]
        refused = services.refused_operations()
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
