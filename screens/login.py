"""Sign-in and the idle lock.

This is the first screen: it imports no service at module level (the station's services are
loaded after it is shown, see ``window_client.app``). The App checks the password at the hall
in a worker thread, and against the cached hash when the hall does not answer (离线登录); these
screens only wait for the answer, so frames keep coming while the hall is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from screens.context import Counter, counter

if TYPE_CHECKING:
    from window_client.services.staff import StaffMember

TEXT: dict[str, Any] = {
    "title": "全科综合窗口 · 登录",
    "staff_no": "工号",
    "password": "密码",
    "hint": "离线时以上次联网登录的密码验证。连续输错5次将锁定15分钟。",
    "locked_title": "屏幕已锁定（长时间未操作）",
    "locked_hint": "请 {name}（{staff_no}）输入密码解锁，或按 F10 换人登录",
    "quit": "退出",
    "switch": "换人登录",
    "opening": "正在打开本站数据……",
    "not_started": "本站数据未能打开，无法登录",
    "checking": "正在验证……",
    "failed": "登录未完成，请重试",
    "reauth_title": "大厅要求重新登录（同步已暂停）",
    "reauth_hint": "请 {name}（{staff_no}）输入密码，验证后继续同步；或按 F10 换人登录",
}


class LoginScreen(Screen["StaffMember"]):
    """Staff number and password; returns the signed-in staff member."""

    BINDINGS = [Binding("ctrl+q", "app.quit", TEXT["quit"], id="login.quit")]

    def __init__(self) -> None:
        super().__init__()
        self.station_name = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box", classes="dialog"):
            yield Label(TEXT["title"], classes="dialog-title")
            yield Static(Text(self.station_name), id="login-station")
            yield Input(placeholder=TEXT["staff_no"], id="login-no", max_length=20)
            yield Input(placeholder=TEXT["password"], password=True, id="login-password", max_length=128)
            yield Label("", id="login-message", classes="problem")
            yield Static(TEXT["hint"], classes="hint")
        yield Footer(compact=True)

    @property
    def app_(self) -> Counter:
        """The counter hosting this screen."""
        return counter(self)

    def on_mount(self) -> None:
        """Cursor in the staff number."""
        self.query_one("#login-no", Input).focus()

    def show_station(self, name: str) -> None:
        """The station's name, once its data is open (before or after this screen mounts)."""
        self.station_name = name
        if self.is_mounted:
            self.query_one("#login-station", Static).update(Text(name))

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter on the number moves on; on the password, signs in (waiting for the station's
        data if someone types faster than it opens)."""
        if event.input.id == "login-no":
            self.query_one("#login-password", Input).focus()
            return
        message = self.query_one("#login-message", Label)
        if not self.app_.is_started:
            message.update(TEXT["opening"])
        runtime = await self.app_.wait_started()
        if runtime is None:
            message.update(TEXT["not_started"])
            return
        message.update(TEXT["checking"])
        from window_client.services.staff import SignInError

        number = self.query_one("#login-no", Input).value
        try:
            outcome = await self.app_.sign_in(number, event.value)
        except SignInError as exc:
            message.update(Text(exc.message))
            event.input.value = ""
            return
        except Exception:  # already logged and shown in a dialog by the App's worker handler
            message.update(TEXT["failed"])
            event.input.value = ""
            return
        message.update("")
        self.dismiss(outcome.member)


class LockScreen(Screen[bool]):
    """Shown after the idle time, or when the hall asks for a new sign-in (``reauth``): the same
    staff member unlocks with the password (which, while sync waits for it, the hall checks)."""

    BINDINGS = [Binding("f10", "switch", TEXT["switch"], id="lock.switch")]

    def __init__(self, member: StaffMember, reauth: bool = False) -> None:
        super().__init__()
        self.member = member
        self.reauth = reauth

    def compose(self) -> ComposeResult:
        title, hint = ("reauth_title", "reauth_hint") if self.reauth else ("locked_title", "locked_hint")
        with Vertical(classes="dialog"):
            yield Label(TEXT[title], classes="dialog-title")
            yield Static(Text(TEXT[hint].format(name=self.member.name, staff_no=self.member.staff_no)))
            yield Input(placeholder=TEXT["password"], password=True, id="lock-password")
            yield Label("", id="lock-message", classes="problem")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Cursor in the password."""
        self.query_one("#lock-password", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        """Unlock with the same staff member's password."""
        from window_client.services.staff import SignInError

        app = counter(self)
        message = self.query_one("#lock-message", Label)
        message.update(TEXT["checking"])
        try:
            await app.unlock(self.member, event.value)
        except SignInError as exc:
            message.update(Text(exc.message))
            event.input.value = ""
            return
        except Exception:  # already logged and shown in a dialog by the App's worker handler
            message.update(TEXT["failed"])
            event.input.value = ""
            return
        self.dismiss(True)

    def action_switch(self) -> None:
        """Sign out; someone else signs in."""
        self.dismiss(False)
