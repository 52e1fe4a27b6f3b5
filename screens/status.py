"""The status line shown on every working screen: station, staff, connection, unsynced work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from window_client.app import WindowClientApp

TEXT: dict[str, Any] = {
    "line": "{station} │ {name}（{staff_no}·{role}） │ {connection} │ 待同步 {pending} 项",
    "offline": "离线",
    "online": "在线",
    "roles": {"clerk": "受理员", "supervisor": "值班长", "admin": "管理员"},
}


class StatusBar(Static):
    """One line; refreshed by its screen and every few seconds."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def on_mount(self) -> None:
        """Show, then keep current."""
        self.refresh_status()
        self.set_interval(5, self.refresh_status)

    def refresh_status(self) -> None:
        """Re-read the counts (one COUNT query)."""
        app: WindowClientApp = self.app  # type: ignore[assignment]
        member = app.member
        if member is None:
            return
        self.update(
            Text(
                TEXT["line"].format(
                    station=app.services.station.name,
                    name=member.name,
                    staff_no=member.staff_no,
                    role=TEXT["roles"][member.role.value],
                    connection=TEXT["online"] if app.online else TEXT["offline"],
                    pending=app.services.pending_operations(),
                )
            )
        )
