"""The ``window-client`` console script: the counter without arguments, the CLI otherwise.

Kept apart from :mod:`window_client.cli` so that starting the counter does not first import
Typer and every command's services: the sign-in screen should be on the terminal about as fast
as a bare Textual app's (see tests/bench/bench_startup.py).

``window-client demo`` (what ``./scripts/start`` runs without arguments) is the one-command
demo: the counter plus a demo hall server on loopback, started as a child process in the
background (the sign-in screen does not wait for it) and stopped when the counter exits.
Plain ``window-client`` never starts a server: a station talks to the hall it is configured
for.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

DEMO_PORT = 8765  # the client's default server, when it is free
DEMO_DB = "demo-hall.db"
DEMO_LOG = "demo-hall.log"
DEMO_PID = "demo-hall.pid"
DEMO_URL_FILE = "demo-hall.url"
STOP_WAIT_SECONDS = 10.0
# The child seeds the demo accounts (idempotent), then becomes the server (exec: one process,
# which dies with the counter, see _die_with_parent).
CHILD = """
import os, subprocess, sys
db, port, url_file = sys.argv[1:4]
subprocess.run([sys.executable, "-m", "hall_server", "demo-data", "--db", db], check=False)
os.execv(sys.executable, [sys.executable, "-m", "hall_server", "serve", "--host", "127.0.0.1",
                          "--port", port, "--db", db, "--url-file", url_file])
"""


def run_counter(demo: bool = False) -> int:
    """Start the TUI on this station; an empty station gets the demo staff and sample cases in
    every state first. Returns the exit code (2 when the station could not be opened)."""
    from window_client.app import WindowClientApp

    app = WindowClientApp(samples=True, demo=demo)
    app.run()
    return app.return_code or 0


def data_home(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """The data directory, as :class:`~window_client.services.settings.Settings` finds it."""
    return Path(environ.get("WINDOW_CLIENT_HOME") or Path.home() / ".window-client").expanduser()


def configured_server(home: Path, environ: dict[str, str] | os._Environ[str] = os.environ) -> str | None:
    """The hall server the station is configured for (``WINDOW_CLIENT_SERVER`` or ``server`` in
    config.toml), or None: then the demo starts its own."""
    if environ.get("WINDOW_CLIENT_SERVER"):
        return environ["WINDOW_CLIENT_SERVER"]
    config = home / "config.toml"
    if config.exists():
        import tomllib

        try:
            server = tomllib.loads(config.read_text(encoding="utf-8")).get("server")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None  # the counter reports the broken file itself
        return server if isinstance(server, str) and server else None
    return None


def pick_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else any free loopback port (0: any)."""
    import socket

    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free loopback port")


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the counter's process ends, however it
    ends (a crash, kill -9), so the demo server never outlives it."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the counter's try/finally still stops it on every normal exit


class DemoHall:
    """The demo hall server: a child process on 127.0.0.1 with its database in ``home``.

    Args:
        home: the station's data directory (the hall's database, log and pid file go there).
        port: the port to use (pick one with :func:`pick_port`).
    """

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (known before it listens: the port is chosen first)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        """The hall's SQLite file."""
        return self.home / DEMO_DB

    @property
    def db_url(self) -> str:
        """The ``--db`` URL for ``hall-server`` commands (e.g. ``cases decide``)."""
        return f"sqlite:///{self.db_path}"

    def start(self) -> None:
        """Start the child and return at once (it seeds, then serves, in the background)."""
        import subprocess

        self.home.mkdir(parents=True, exist_ok=True)
        self._log = (self.home / DEMO_LOG).open("ab")
        url_file = self.home / DEMO_URL_FILE
        url_file.unlink(missing_ok=True)
        env = {**os.environ, "HALL_SERVER_HOME": str(self.home / "demo-hall")}
        env.pop("HALL_SERVER_DB", None)  # the demo's own database, whatever the shell says
        linux = sys.platform.startswith("linux")
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, self.db_url, str(self.port), str(url_file)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,  # never onto the counter's terminal
            env=env,
            start_new_session=True,  # Ctrl+C at the counter is the counter's, not the server's
            # Called before the counter starts any thread, so preexec_fn is safe here.
            preexec_fn=_die_with_parent if linux else None,
        )
        (self.home / DEMO_PID).write_text(f"{self.process.pid}\n", encoding="utf-8")

    def stop(self) -> None:
        """SIGTERM the child's process group (the server and a seeding still under way), then
        SIGKILL if it has not ended within :data:`STOP_WAIT_SECONDS`."""
        import signal
        import subprocess

        process, self.process = self.process, None
        if process is not None:
            try:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    try:
                        process.wait(STOP_WAIT_SECONDS)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()
            except ProcessLookupError:
                pass  # it ended on its own meanwhile
            (self.home / DEMO_PID).unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None


def run_demo() -> int:
    """``window-client demo``: the counter and, unless a hall is configured, the demo hall on
    loopback (``WINDOW_CLIENT_DEMO_PORT`` picks its port; default 8765 when free)."""
    home = data_home()
    hall: DemoHall | None = None
    if configured_server(home) is None:
        try:
            preferred = int(os.environ.get("WINDOW_CLIENT_DEMO_PORT") or DEMO_PORT)
        except ValueError:
            preferred = DEMO_PORT
        hall = DemoHall(home, pick_port(preferred))
        hall.start()
        os.environ["WINDOW_CLIENT_SERVER"] = hall.url
    try:
        code = run_counter(demo=hall is not None)
    finally:
        if hall is not None:
            hall.stop()
    if hall is not None:
        print(
            f"demo hall stopped (database {hall.db_path}); decide a case while the demo runs with:\n"
            f"  .venv/bin/hall-server cases decide CASE_NO approve --db {hall.db_url}",
            file=sys.stderr,
        )
    return code


def main() -> None:
    """Console-script entry point."""
    arguments = sys.argv[1:]
    if arguments == ["demo"]:
        sys.exit(run_demo())  # as fast as the plain counter: no Typer before the first frame
    if arguments:
        from window_client.cli import main as cli_main

        cli_main()
        return
    sys.exit(run_counter())
