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

from window_client.services.tolerance import DEFAULT_POLICY, TolerancePolicy

DEFAULT_SERVER = "http://127.0.0.1:8765"


class SettingsError(ValueError):
    """A configuration file that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one station."""

    home: Path
    station: str | None = None
    server: str = DEFAULT_SERVER
    window: str = "01"
    policy: TolerancePolicy = DEFAULT_POLICY
    idle_lock_seconds: float = 600.0
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
                raise SettingsError(f"{config_path}: {exc}") from exc
        raw_policy = config.get("policy", {})
        try:
            policy = TolerancePolicy(
                enabled=bool(raw_policy.get("tolerance_enabled", True)),
                on_unfulfilled=str(raw_policy.get("on_unfulfilled", "supervisor")),
                warning_workdays=int(raw_policy.get("warning_workdays", 1)),
            )
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{config_path}: [policy] {exc}") from exc
        if policy.on_unfulfilled not in ("supervisor", "refuse"):
            raise SettingsError(f"{config_path}: on_unfulfilled must be 'supervisor' or 'refuse'")
        keymap = config.get("keymap", {})
        if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
            raise SettingsError(f"{config_path}: [keymap] maps binding ids to key names (strings)")
        try:
            idle = float(config.get("idle_lock_minutes", 10)) * 60
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{config_path}: idle_lock_minutes must be a number") from exc
        return cls(
            home=home,
            idle_lock_seconds=idle,
            keymap={str(k): v for k, v in keymap.items()},
            station=env.get("WINDOW_CLIENT_STATION") or config.get("station"),
            server=env.get("WINDOW_CLIENT_SERVER") or config.get("server", DEFAULT_SERVER),
            window=str(config.get("window", "01")),
            policy=policy,
            config=config,
        )
