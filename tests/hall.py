"""The real hall server as a subprocess on a free loopback port, for sync and fault tests.

    hall = start_hall(tmp_path)                 # SQLite in tmp_path, demo accounts seeded
    httpx.get(f"{hall.url}/api/v1/health")
    hall.kill()                                 # SIGKILL, as a crash would
    hall.restart()                              # same port, same database
    hall.stop()                                 # SIGTERM, then wait

The server runs ``python -m hall_server serve --port 0 --url-file ...``: it binds a free port
itself and writes its URL once it listens, so there is no race for the port; a restart asks for
the same port again (the server sets SO_REUSEADDR). Its output goes to ``hall.log`` in the
server's directory, which :class:`HallStartError` quotes when the server does not come up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


class HallStartError(RuntimeError):
    """The server did not answer /health in time (the message ends with its log)."""


@dataclass
class HallProcess:
    """A running hall server subprocess."""

    url: str
    db_url: str
    directory: Path
    env: dict[str, str]
    port: int
    token_ttl: int | None = None
    extra_args: tuple[str, ...] = ()  # more `serve` options
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        """Where the server's stdout and stderr go."""
        return self.directory / "hall.log"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def _launch(self, port: int) -> None:
        url_file = self.directory / "hall.url"
        url_file.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "hall_server", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--db", self.db_url, "--url-file", str(url_file),
        ]  # fmt: skip
        if self.token_ttl is not None:
            command += ["--token-ttl", str(self.token_ttl)]
        command += self.extra_args
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HallStartError(
                    f"the hall server exited with {self.process.returncode}:\n{self._log_tail()}"
                )
            if url_file.exists():
                self.url = url_file.read_text(encoding="utf-8").strip()
                self.port = int(self.url.rsplit(":", 1)[1])
                try:
                    if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise HallStartError(
            f"the hall server did not answer /health in {START_TIMEOUT:.0f} s:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(
                self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL if it does not end in ``timeout`` seconds)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would end it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        """Stop (if running) and start again on the same port and database."""
        self.stop()
        self._launch(self.port)

    def __enter__(self) -> HallProcess:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


def seed_demo_data(db_url: str, env: Mapping[str, str] | None = None) -> None:
    """``hall-server demo-data --db URL`` (idempotent): the demo accounts and stations."""
    subprocess.run(
        [sys.executable, "-m", "hall_server", "demo-data", "--db", db_url],
        cwd=ROOT,
        env=dict(env) if env is not None else None,
        check=True,
        capture_output=True,
    )


def start_hall(
    tmp_path: Path,
    db_url: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    seed: bool = True,
    token_ttl: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> HallProcess:
    """Start the real server for ``db_url`` (default: SQLite in ``tmp_path``) and wait for /health.

    ``seed`` runs ``demo-data`` first (the demo accounts of DESIGN.md §6); ``env`` is added to the
    environment (``HALL_SERVER_HOME`` defaults to a directory in ``tmp_path``).
    """
    directory = tmp_path / "hall-server"
    directory.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{directory / 'hall.db'}"
    full_env = {**os.environ, "HALL_SERVER_HOME": str(directory), **(env or {})}
    if seed:
        seed_demo_data(db_url, full_env)
    hall = HallProcess(
        url="",
        db_url=db_url,
        directory=directory,
        env=full_env,
        port=0,
        token_ttl=token_ttl,
        extra_args=extra_args,
    )
    hall._launch(0)
    return hall
