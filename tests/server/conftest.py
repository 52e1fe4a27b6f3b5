"""Fixtures of the hall-server tests: databases (SQLite and PostgreSQL), the real server, helpers.

- ``db_url`` — a fresh database, parametrised over ``sqlite`` and ``postgresql`` (the latter
  skipped with the reason when no cluster can be started);
- ``server`` — the app on that database served by uvicorn on a free loopback port (in a thread,
  so the test can move its clock), seeded with the demo stations and staff;
- ``hall`` — the real ``hall-server`` subprocess (SQLite) from :mod:`tests.hall`.
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from hall_server import storage
from hall_server.app import create_app
from hall_server.domain.approvals import SUPERVISOR_ROLES
from hall_server.domain.reference import SHIPPED_CATALOG, load_catalog
from hall_server.services.demo import demo_accounts
from hall_server.storage import StaffRow, write_transaction
from models.approval import derive_approval_key
from models.seal import KeyPair
from tests.hall import HallProcess, start_hall
from tests.server.postgres import Cluster, PostgresUnavailable, start_cluster

START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Xi'an


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def demo_staff_rows() -> list[tuple[StaffRow, str]]:
    """The demo accounts with argon2id hashes of cheap parameters (the server verifies any).

    The server verifies a hash with the parameters written in it, so tests sign in fast while
    the code path is the real one.
    """
    from argon2 import PasswordHasher

    hash_password = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash
    catalog = load_catalog(SHIPPED_CATALOG)
    return [
        (
            StaffRow(
                staff_no=a.staff_no,
                name=a.name,
                role=a.role.value,
                station=a.station,
                password_hash=hash_password(a.password),
            ),
            a.password,
        )
        for a in demo_accounts(catalog["stations"])
    ]


@functools.cache
def _approval_key(staff_no: str, password: str) -> KeyPair:
    return derive_approval_key(staff_no, password)


def seed(engine: Engine, staff: list[tuple[StaffRow, str]]) -> None:
    """The demo stations and accounts (with supervisors' approval keys), without hashing again."""
    catalog = load_catalog(SHIPPED_CATALOG)
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        for station in catalog["stations"]:
            storage.upsert_station(conn, station["code"], station["name"], station["kind"])
        for row, password in staff:
            storage.upsert_staff(conn, row)
            if row.role in SUPERVISOR_ROLES:
                key = _approval_key(row.staff_no, password)
                storage.record_approval_key(
                    conn, row.staff_no, key.key_id, key.public_hex, row.password_hash, now
                )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session (skips with the reason when it cannot start)."""
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database (for tests that are about the server, not the database)."""
    return f"sqlite:///{tmp_path / 'hall.db'}"


class ServerThread:
    """uvicorn serving ``app`` on a free loopback port in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut down (runs the app's lifespan end: the engine is disposed)."""
        self.server.should_exit = True
        self.thread.join(30)


class Api:
    """A thin client of the hall API for tests (real HTTP)."""

    def __init__(self, url: str, passwords: dict[str, str]) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60)
        self.passwords = passwords

    def token(self, staff_no: str = "C001", station: str = "GXZX") -> str:
        """Sign in with the demo password; the token."""
        response = self.http.post(
            "/api/v1/auth/token",
            json={"staff_no": staff_no, "password": self.passwords[staff_no], "station": station},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def push(self, token: str, operations: list[dict[str, Any]], station: str = "GXZX") -> httpx.Response:
        """POST /sync/push."""
        return self.http.post(
            "/api/v1/sync/push",
            json={"station": station, "operations": operations},
            headers={"Authorization": f"Bearer {token}"},
        )

    def results(
        self, token: str, operations: list[dict[str, Any]], station: str = "GXZX"
    ) -> list[dict[str, Any]]:
        """The results of a push that must succeed."""
        response = self.push(token, operations, station)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def pull(self, token: str, after: int = 0, limit: int = 1000) -> httpx.Response:
        """GET /sync/changes."""
        return self.http.get(
            "/api/v1/sync/changes",
            params={"after": after, "limit": limit},
            headers={"Authorization": f"Bearer {token}"},
        )

    def changes(self, token: str) -> list[dict[str, Any]]:
        """Every change the token's station may see, paging through the feed."""
        found: list[dict[str, Any]] = []
        cursor, more = 0, True
        while more:
            response = self.pull(token, cursor)
            assert response.status_code == 200, response.text
            page = response.json()
            found += page["changes"]
            cursor, more = page["cursor"], page["more"]
        return found


class Served:
    """The test server: its URL, app, clock, engine and an :class:`Api`."""

    def __init__(self, thread: ServerThread, clock: Clock, db_url: str, passwords: dict[str, str]) -> None:
        self.thread = thread
        self.url = thread.url
        self.app = thread.app
        self.clock = clock
        self.db_url = db_url
        self.engine: Engine = thread.app.state.hall.engine
        self.api = Api(thread.url, passwords)


@pytest.fixture
def make_server(demo_staff_rows: list[tuple[StaffRow, str]]) -> Iterator[Any]:
    """A factory: ``make_server(db_url, **create_app_options)`` → :class:`Served` (stopped after)."""
    running: list[Served] = []

    def make(url: str, **options: Any) -> Served:
        clock = options.pop("clock", None) or Clock()
        app = create_app(url, clock=clock, **options)
        seed(app.state.hall.engine, demo_staff_rows)
        served = Served(ServerThread(app), clock, url, {row.staff_no: pw for row, pw in demo_staff_rows})
        running.append(served)
        return served

    yield make
    for served in running:
        served.api.http.close()
        served.thread.stop()


@pytest.fixture
def server(make_server: Any, db_url: str) -> Served:
    """The server on a fresh database of each kind (demo stations and staff seeded)."""
    served: Served = make_server(db_url)
    return served


@pytest.fixture
def sqlite_server(make_server: Any, sqlite_url: str) -> Served:
    """The server on a fresh SQLite database."""
    served: Served = make_server(sqlite_url)
    return served


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    """The real ``hall-server`` subprocess on SQLite, demo data seeded; stopped after the test."""
    process = start_hall(tmp_path)
    yield process
    process.stop()
