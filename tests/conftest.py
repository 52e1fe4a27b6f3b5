"""Shared fixtures: a station runtime on a real SQLite file in a temporary directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.catalog import Catalog
from window_client.services.catalog import load_shipped_catalog
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

TODAY = dt.date(2026, 11, 20)  # a Friday with a known holiday arrangement


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalogue (loaded once)."""
    return load_shipped_catalog()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, also exported as WINDOW_CLIENT_HOME for the CLI."""
    path = tmp_path / "home"
    monkeypatch.setenv("WINDOW_CLIENT_HOME", str(path))
    # Sign-in asks the hall first: point at a closed loopback port (discard) so no test talks to
    # a hall it did not start itself (a demo hall on the default port, say).
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", "http://127.0.0.1:9")
    monkeypatch.delenv("WINDOW_CLIENT_STATION", raising=False)
    monkeypatch.delenv("WINDOW_CLIENT_USER", raising=False)
    monkeypatch.delenv("WINDOW_CLIENT_STATION_SECRET", raising=False)
    return path


@pytest.fixture
def rt(home: Path) -> Iterator[Runtime]:
    """Services of the default station, acting as clerk C001, on a real store file."""
    runtime = Runtime(Settings.from_env(), actor="C001")
    yield runtime
    runtime.close()
