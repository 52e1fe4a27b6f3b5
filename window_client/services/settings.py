"""Where the station keeps its data, which station it is, and its policy.

Every command honours ``WINDOW_CLIENT_HOME`` (data directory), ``WINDOW_CLIENT_STATION`` and
``WINDOW_CLIENT_SERVER``. An optional ``config.toml`` in the data directory sets policy.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.problems import ProblemValueError
from models.sync import MAX_PULL_LIMIT, MAX_PUSH_BATCH
from window_client.services.tolerance import DEFAULT_POLICY, TolerancePolicy

DEFAULT_SERVER = "http://127.0.0.1:8765"
DEFAULT_MAX_UNSYNCED_DAYS = 5
DEFAULT_PULL_LIMIT = 1000
# Seconds the hall client waits to connect and for each read of an answer; a push that takes
# longer is treated as unanswered (pushed again later, answered as a duplicate).
DEFAULT_SYNC_TIMEOUT = 30.0
MAX_SYNC_TIMEOUT = 600.0


class SettingsError(ProblemValueError):
    """A configuration file that cannot be used (English ``str()``; :meth:`zh` for the CLI)."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one station."""

    home: Path
    station: str | None = None
    server: str = DEFAULT_SERVER
    window: str = "01"
    policy: TolerancePolicy = DEFAULT_POLICY
    idle_lock_seconds: float = 600.0
    # A station that has not synced for longer refuses new acceptances (0: never refuses).
    max_unsynced_days: int = DEFAULT_MAX_UNSYNCED_DAYS
    sync_batch_size: int = MAX_PUSH_BATCH
    sync_pull_limit: int = DEFAULT_PULL_LIMIT
    sync_timeout_seconds: float = DEFAULT_SYNC_TIMEOUT
    keymap: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        """The station's SQLite file."""
        return self.home / "station.db"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the environment and ``$WINDOW_CLIENT_HOME/config.toml``."""
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("WINDOW_CLIENT_HOME") or Path.home() / ".window-client").expanduser()
        config: dict[str, Any] = {}
        config_path = home / "config.toml"
        if config_path.exists():
            try:
                config = tomllib.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError("settings.unreadable", path=config_path, detail=exc) from exc
        raw_policy = config.get("policy", {})
        try:
            policy = TolerancePolicy(
                enabled=bool(raw_policy.get("tolerance_enabled", True)),
                on_unfulfilled=str(raw_policy.get("on_unfulfilled", "supervisor")),
                warning_workdays=int(raw_policy.get("warning_workdays", 1)),
            )
        except (TypeError, ValueError) as exc:
            raise SettingsError("settings.policy", path=config_path, detail=exc) from exc
        if policy.on_unfulfilled not in ("supervisor", "refuse"):
            raise SettingsError("settings.on_unfulfilled", path=config_path)
        max_unsynced = _int_setting(
            raw_policy, "max_unsynced_days", DEFAULT_MAX_UNSYNCED_DAYS, 0, 3650, config_path, "policy"
        )
        raw_sync = config.get("sync", {})
        if not isinstance(raw_sync, dict):
            raise SettingsError("settings.table", path=config_path, section="sync")
        batch_size = _int_setting(
            raw_sync, "batch_size", MAX_PUSH_BATCH, 1, MAX_PUSH_BATCH, config_path, "sync"
        )
        pull_limit = _int_setting(
            raw_sync, "pull_limit", DEFAULT_PULL_LIMIT, 1, MAX_PULL_LIMIT, config_path, "sync"
        )
        timeout = raw_sync.get("timeout_seconds", DEFAULT_SYNC_TIMEOUT)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0.1 <= timeout <= MAX_SYNC_TIMEOUT
        ):
            raise SettingsError("settings.timeout", path=config_path, high=f"{MAX_SYNC_TIMEOUT:.0f}")
        keymap = config.get("keymap", {})
        if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
            raise SettingsError("settings.keymap", path=config_path)
        try:
            idle = float(config.get("idle_lock_minutes", 10)) * 60
        except (TypeError, ValueError) as exc:
            raise SettingsError("settings.idle_lock", path=config_path) from exc
        return cls(
            home=home,
            idle_lock_seconds=idle,
            keymap={str(k): v for k, v in keymap.items()},
            station=env.get("WINDOW_CLIENT_STATION") or config.get("station"),
            server=env.get("WINDOW_CLIENT_SERVER") or config.get("server", DEFAULT_SERVER),
            window=str(config.get("window", "01")),
            policy=policy,
            max_unsynced_days=max_unsynced,
            sync_batch_size=batch_size,
            sync_pull_limit=pull_limit,
            sync_timeout_seconds=float(timeout),
            config=config,
        )


def _int_setting(
    table: dict[str, Any], key: str, default: int, low: int, high: int, path: Path, section: str
) -> int:
    """An integer setting within [low, high], or a :class:`SettingsError` naming it."""
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError("settings.whole_number", path=path, section=section, key=key, low=low, high=high)
    return value
