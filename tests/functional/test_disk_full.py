"""A full disk during a batch: exit code 3 (not 1, "rows rejected"), nothing saved is lost, and
the same command run again once there is room finishes the file without accepting anything twice.

The disk is real: the station's data directory is a small tmpfs mounted for the test (root
only; skipped elsewhere), so SQLite meets an actual ENOSPC and reports SQLITE_FULL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from window_client.services.catalog import load_shipped_catalog
from window_client.services.samples import sample_rows, write_csv

ROWS = 3000
TODAY = "2026-11-20"
_SCRIPT = Path(sys.executable).with_name("window-client")
CLI = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from window_client.cli import main; main()"]
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (about one chunk of 1,000 rows fits), unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mountpoint)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOW_CLIENT_")}
    env |= {"WINDOW_CLIENT_HOME": str(home), "WINDOW_CLIENT_SERVER": "http://127.0.0.1:9"}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_full_disk_is_exit_3_and_a_rerun_with_room_finishes_the_file(
    small_disk: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "big.csv"
    write_csv(iter(list(sample_rows(load_shipped_catalog(), ROWS, seed=20261120))), batch)
    home = small_disk / "home"
    db = home / "station.db"

    full = _cli("batch", "accept", str(batch), "--today", TODAY, home=home)
    assert full.returncode == 3, full.stdout + full.stderr
    assert "磁盘已满" in full.stderr and "Traceback" not in full.stderr  # Chinese unless told otherwise
    kept = _query(db, "SELECT COUNT(*) FROM cases")[0][0]
    assert isinstance(kept, int) and 0 < kept < ROWS  # whole chunks, none half-written
    assert _query(db, "SELECT COUNT(*) FROM outbox")[0][0] == kept
    assert _cli("audit", "verify", home=home).returncode == 0

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    report = tmp_path / "report.json"
    again = _cli("batch", "accept", str(batch), "--today", TODAY, "--report", str(report), home=home)
    assert again.returncode in (0, 1), again.stderr
    statuses = [row["status"] for row in json.loads(report.read_text(encoding="utf-8"))["rows"]]
    assert statuses.count("duplicate") == kept  # what the full disk kept is recognised, not redone
    written = sum(statuses.count(s) for s in ("accepted", "accepted_tolerated", "not_accepted", "duplicate"))
    assert _query(db, "SELECT COUNT(*) FROM cases")[0][0] == written
    assert _query(db, "SELECT COUNT(DISTINCT dedupe_key) FROM cases")[0][0] == written
    assert _cli("audit", "verify", home=home).returncode == 0
