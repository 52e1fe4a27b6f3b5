"""A throwaway PostgreSQL cluster for the server tests: initdb in a temp dir, pg_ctl on a free port.

As root the cluster runs as the ``postgres`` OS user (PostgreSQL refuses to run as root), in a
directory that user owns. The binaries are found on PATH or under /usr/lib/postgresql/*/bin.
When anything is missing, :func:`start_cluster` raises :class:`PostgresUnavailable` with the
reason, and the tests that need the cluster are skipped with it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(Exception):
    """Why no cluster could be started."""


def find_binary(name: str) -> str | None:
    """``name`` on PATH, else the newest /usr/lib/postgresql/<version>/bin/<name>."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parts[-3]
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return candidates[-1] if candidates else None


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster; :meth:`new_database` gives each test its own database."""

    directory: Path
    port: int
    pg_ctl: str
    prefix: list[str]

    @property
    def admin_dsn(self) -> str:
        """libpq connection string of the maintenance database."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def new_database(self) -> str:
        """A fresh empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"hall_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop immediately and remove the directory."""
        subprocess.run(
            [*self.prefix, self.pg_ctl, "-D", str(self.directory / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + pg_ctl start on a free loopback port (raises :class:`PostgresUnavailable`)."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise PostgresUnavailable("initdb/pg_ctl not found (install the postgresql package)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable(f"psycopg is not installed: {exc}") from exc
    prefix: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="hall-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            raise PostgresUnavailable("running as root and there is no 'postgres' OS user") from None
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(directory, ignore_errors=True)
            raise PostgresUnavailable("running as root and runuser is not available")
        os.chown(directory, account.pw_uid, account.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data = directory / "data"
    steps = [
        [*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale",
         "--no-sync"],
        [
            *prefix, pg_ctl, "-D", str(data), "-l", str(directory / "server.log"), "-w", "-t", "60",
            "-o", f"-F -p {free_port()} -k {directory} -c listen_addresses=127.0.0.1", "start",
        ],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (
                (directory / "server.log").read_text(errors="replace")
                if (directory / "server.log").exists()
                else ""
            )
            shutil.rmtree(directory, ignore_errors=True)
            raise PostgresUnavailable(
                f"{Path(step[len(prefix)]).name} failed: {done.stderr.strip()} {log[-500:]}"
            )
    port = int(steps[1][-2].split()[2])
    return Cluster(directory, port, pg_ctl, prefix)
