"""The one-command demo, for real: ``window-client demo`` (what ``./scripts/start`` runs) on a
pseudo-terminal, with its demo hall server as a child process on loopback.

The launcher must start the hall in the background, fill the station with cases in every state
through the real services, give them to the hall (one sync before anyone signs in), and stop
the hall when the counter exits. The tests wait for what a user (or the hall's back office)
would see, with a generous limit; nothing asserts on time.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.enums import CaseState
from window_client.launch import DEMO_DB, DEMO_PID, configured_server, pick_port

WAIT = 120.0  # first start: the hall hashes the demo passwords, the station seeds its cases
CTRL_Q = b"\x11"
hall_runner = CliRunner()


class Terminal:
    """A program on its own 80x24 pseudo-terminal; its output is drained in a thread."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program closed the terminal
                return
            if not chunk:
                return
            self.output += chunk

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> int:
        """Wait for the program to end (it was asked to); kill only this child if it hangs."""
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(timeout=5)
        os.close(self.master)
        return code


def wait_for(condition: Callable[[], bool], what: str, terminal: Terminal) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if terminal.process.poll() is not None:
            tail = bytes(terminal.output[-600:]).decode("utf-8", "replace")
            raise AssertionError(f"the demo exited while waiting for {what}: {tail!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.2)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "WINDOW_CLIENT_HOME": str(tmp_path / "home"), "TERM": "xterm-256color"}
    env["LANG"] = "C.UTF-8"
    env["WINDOW_CLIENT_DEMO_PORT"] = "0"  # any free port: tests run side by side
    for name in ("WINDOW_CLIENT_SERVER", "WINDOW_CLIENT_STATION", "HALL_SERVER_DB", "TEXTUAL"):
        env.pop(name, None)
    yield env


def window_client() -> list[str]:
    return [str(Path(sys.executable).parent / "window-client"), "demo"]


def local_states(home: Path) -> dict[str, str]:
    db = home / "station.db"
    if not db.exists():
        return {}
    conn = sqlite3.connect(db, timeout=30)
    try:
        return dict(conn.execute("SELECT case_no, state FROM cases").fetchall())
    except sqlite3.OperationalError:  # the store is still being created
        return {}
    finally:
        conn.close()


def hall_states(home: Path) -> dict[str, str]:
    if not (home / DEMO_DB).exists():
        return {}
    result = hall_runner.invoke(hall_app, ["cases", "list", "--json", "--db", f"sqlite:///{home / DEMO_DB}"])
    if result.exit_code != 0:
        return {}  # the demo hall is still creating its schema
    return {c["case_no"]: c["state"] for c in json.loads(result.stdout)["cases"]}


def test_demo_starts_the_hall_seeds_every_state_and_stops_the_hall(demo_env: dict[str, str]) -> None:
    home = Path(demo_env["WINDOW_CLIENT_HOME"])
    terminal = Terminal(window_client(), demo_env)
    pid: int | None = None
    try:
        wait_for(lambda: (home / DEMO_PID).exists(), "the demo hall's pid file", terminal)
        pid = int((home / DEMO_PID).read_text())
        assert alive(pid)
        every_state = {s.value for s in CaseState}
        wait_for(lambda: set(local_states(home).values()) == every_state, "cases in every state", terminal)
        local = local_states(home)
        # The first sync runs before anyone signs in: the hall gets every case, in its state.
        wait_for(lambda: hall_states(home) == local, "the hall to have the demo cases", terminal)
        assert "工号".encode() in terminal.output  # the sign-in screen was on the terminal
        terminal.send(CTRL_Q)
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.send_signal(signal.SIGTERM)
            terminal.close()
    assert pid is not None and not alive(pid)  # the hall did not outlive the counter
    assert not (home / DEMO_PID).exists()
    conn = sqlite3.connect(home / "station.db")
    assert conn.execute("SELECT DISTINCT status FROM outbox").fetchall() == [("acked",)]
    # The station's certificate key, approved by S001, went to the hall with the sync (so the
    # demo's certificates verify there).
    assert conn.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'key.publish'").fetchone()[0] >= 1
    assert conn.execute(
        "SELECT COUNT(*) FROM signing_keys WHERE origin = 'own' AND published_at IS NULL"
    ).fetchone() == (0,)
    approvers = conn.execute("SELECT detail FROM audit_events WHERE action = 'key.approve'").fetchall()
    assert approvers and all('"S001"' in detail for (detail,) in approvers)


def test_demo_with_a_configured_hall_starts_no_server(demo_env: dict[str, str]) -> None:
    home = Path(demo_env["WINDOW_CLIENT_HOME"])
    demo_env["WINDOW_CLIENT_SERVER"] = f"http://127.0.0.1:{pick_port(0)}"  # nobody listens there
    terminal = Terminal(window_client(), demo_env)
    try:
        wait_for(lambda: "工号".encode() in terminal.output, "the sign-in screen", terminal)
        wait_for(lambda: bool(local_states(home)), "the station's sample cases", terminal)
        terminal.send(CTRL_Q)
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.send_signal(signal.SIGTERM)
            terminal.close()
    assert not (home / DEMO_DB).exists() and not (home / DEMO_PID).exists()


def test_configured_server_comes_from_the_environment_or_config(tmp_path: Path) -> None:
    assert configured_server(tmp_path, {}) is None
    assert configured_server(tmp_path, {"WINDOW_CLIENT_SERVER": "http://hall:8765"}) == "http://hall:8765"
    (tmp_path / "config.toml").write_text('server = "http://10.0.0.2:8765"\n', encoding="utf-8")
    assert configured_server(tmp_path, {}) == "http://10.0.0.2:8765"


def test_the_demo_hall_takes_the_default_port_only_when_it_is_free() -> None:
    free = pick_port(0)
    assert pick_port(free) == free
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = pick_port(port)
    assert other != port and other > 0
