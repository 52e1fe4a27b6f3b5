"""Two (or more) real ``hall-server`` processes that are each other's partners (跨区通办).

    gaoxin = partner_hall(tmp_path, "GAOXIN", GAOXIN_ISSUER, ORIGIN_LINKS)
    jinghe = partner_hall(tmp_path, "JINGHE", JINGHE_ISSUER, OWNER_LINKS)
    link(gaoxin, jinghe); link(jinghe, gaoxin)

Each hall has its own directory (``HALL_SERVER_HOME``), database, SM2 key (``key init``) and
published catalogue (the shipped one with ``tongban`` links added), and runs ``serve`` with its
partner outbox every ``FORWARD_EVERY`` seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hall_server.storage import make_engine, read_transaction
from models.shipped import CATALOG_PATH
from tests.hall import ROOT, HallProcess, start_hall

GAOXIN_ISSUER = "11610131MB2978467M"  # the issuing authorities of the shipped catalogue's halls
JINGHE_ISSUER = "11611100MB3012592K"
FORWARD_EVERY = "0.2"
WAIT = 120.0
# At 高新 (the origin): CL-001 and MZ-001 belong to 泾河 (异地收件); CL-002 is only 同事同标.
ORIGIN_LINKS = {
    "CL-001": [{"partner": "JINGHE", "code": "CL-001", "role": "forward"}],
    "MZ-001": [{"partner": "JINGHE", "code": "MZ-001", "role": "forward"}],
    "CL-002": [{"partner": "JINGHE", "code": "CL-002", "role": "same"}],
}
# At 泾河 (the owner): it handles CL-001 for 高新, but not MZ-001 (a refused forwarding).
OWNER_LINKS = {
    "CL-001": [{"partner": "GAOXIN", "code": "CL-001", "role": "handle"}],
    "CL-002": [{"partner": "GAOXIN", "code": "CL-002", "role": "same"}],
}


@dataclass
class PartnerHall:
    """One running hall with its name, home and database."""

    name: str
    home: Path
    process: HallProcess

    @property
    def url(self) -> str:
        """Where it listens."""
        return self.process.url

    @property
    def db_url(self) -> str:
        """Its database."""
        return self.process.db_url

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``hall-server ARGS`` with this hall's home (add ``--db`` where the command takes it)."""
        done = subprocess.run(
            [sys.executable, "-m", "hall_server", *args],
            cwd=ROOT,
            env=self.process.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        if check:
            assert done.returncode == 0, f"hall-server {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def db(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``hall-server ARGS --db DB``."""
        return self.cli(*args, "--db", self.db_url, check=check)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` on the hall's database (read only)."""
        engine = make_engine(self.db_url)
        try:
            with read_transaction(engine) as conn:
                return [tuple(row) for row in conn.execute(text(sql), params)]
        finally:
            engine.dispose()


def catalogue(
    path: Path,
    links: Mapping[str, Sequence[Mapping[str, str]]],
    tweak: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """The shipped catalogue with ``links`` added to its items (and ``tweak`` applied)."""
    data = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    for item in data["items"]:
        if item["code"] in links:
            item["tongban"] = [dict(link) for link in links[item["code"]]]
    if tweak is not None:
        tweak(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def partner_hall(
    tmp_path: Path,
    name: str,
    issuer: str,
    links: Mapping[str, Sequence[Mapping[str, str]]],
    *,
    db_url: str | None = None,
    tweak: Callable[[dict[str, Any]], None] | None = None,
    forward_every: str = FORWARD_EVERY,
) -> PartnerHall:
    """A hall named ``name``: key made, catalogue published, demo data seeded, serving."""
    directory = tmp_path / name
    home = directory / "hall-server"
    home.mkdir(parents=True, exist_ok=True)
    env = {"HALL_SERVER_HOME": str(home)}
    db_url = db_url or f"sqlite:///{home / 'hall.db'}"
    setup = [
        ["key", "init", name, "--issuer-code", issuer],
        ["catalog", "publish", str(catalogue(directory / "catalog.json", links, tweak)), "--db", db_url],
    ]
    for args in setup:
        done = subprocess.run(
            [sys.executable, "-m", "hall_server", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 0, done.stderr
    process = start_hall(directory, db_url, env, extra_args=("--forward-every", forward_every))
    return PartnerHall(name, home, process)


def link(hall: PartnerHall, partner: PartnerHall) -> None:
    """``hall`` names ``partner`` (its URL and its key, from its ``key show --json``)."""
    key_file = hall.home / f"{partner.name}.key.json"
    key_file.write_text(partner.cli("key", "show", "--json").stdout, encoding="utf-8")
    hall.db("partners", "add", partner.name, "--url", partner.url, "--key", str(key_file))


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``condition`` until it returns something truthy (fail naming ``what`` after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
