"""The hall's 电子档案 (``hall-server archive export|verify|key``) on SQLite and PostgreSQL: the demo
station's cases synced to a real hall, archived from the hall's records, verified by the hall and
by the station (with the hall's published key), tampered with, and refused on bad input.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.archive.package import MANIFEST, SEAL
from models.archive.verify import verify_package
from tests.conftest import TODAY
from tests.server.conftest import Served
from window_client.cli import app as client_app
from window_client.services.demo_seed import demo_password, seed_demo_station
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.staff import seed_demo_staff

runner = CliRunner()
DAY = TODAY.isoformat()


def hall(*args: str) -> Any:
    return runner.invoke(hall_app, list(args), catch_exceptions=False)


@pytest.fixture
def synced(server: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo station whose cases (and approved signing key) reached the hall; its home."""
    home = tmp_path / "station"
    monkeypatch.setenv("WINDOW_CLIENT_HOME", str(home))
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", server.url)
    monkeypatch.setenv("HALL_SERVER_HOME", str(tmp_path / "hall-home"))
    rt = Runtime(Settings(home=home, station="GXZX", server=server.url), actor="C001")
    try:
        seed_demo_staff(rt.staff, rt.station.code)
        seed_demo_station(rt, TODAY)
        rt.sync.sign_in_online("C001", demo_password("C001"))
        report = rt.sync_once()
        assert report.completed and rt.pending_operations() == 0
    finally:
        rt.close()
    return home


def test_hall_export_and_verify_round_trip(server: Served, synced: Path, tmp_path: Path) -> None:
    out = tmp_path / "hall-day"
    result = hall("archive", "export", "--day", DAY, "--out", str(out), "--db", server.db_url, "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    manifest = json.loads((out / MANIFEST).read_bytes())
    assert manifest["producer"]["kind"] == "hall" and len(done["cases"]) == len(manifest["cases"]) > 0
    # Every operation the hall received for a case is in its folder, in the hall's order.
    records = {c: json.loads((out / c / "case.json").read_bytes()) for c in done["cases"]}
    issued = next(c for c, r in records.items() if r["case"]["state"] in ("certificate_issued", "delivered"))
    record = records[issued]
    assert record["accept"]["materials"] and record["certificates"]
    ops = json.loads((out / issued / "operations.json").read_bytes())["operations"]
    assert ops[0]["kind"] == "case.accept"
    assert [op["server_seq"] for op in ops] == sorted(op["server_seq"] for op in ops)
    verified = hall("archive", "verify", str(out), "--db", server.db_url, "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["seal"]["station"] == "HALL"


def test_each_side_verifies_the_others_package(server: Served, synced: Path, tmp_path: Path) -> None:
    hall_out, station_out = tmp_path / "hall-pkg", tmp_path / "station-pkg"
    assert (
        hall("archive", "export", "--day", DAY, "--out", str(hall_out), "--db", server.db_url).exit_code == 0
    )
    client = runner.invoke(client_app, ["archive", "export", "--day", DAY, "--out", str(station_out)])
    assert client.exit_code == 0, client.output
    # The hall trusts the station key it registered at the sync.
    assert hall("archive", "verify", str(station_out), "--db", server.db_url).exit_code == 0
    # The station trusts the hall's key only when given it (`hall-server archive key --json`).
    unknown = runner.invoke(client_app, ["archive", "verify", str(hall_out), "--json"])
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["problems"][0]["kind"] == "seal_unknown_key"
    key_file = tmp_path / "hall-key.json"
    key_file.write_text(hall("archive", "key", "--json").stdout, encoding="utf-8")
    trusted = runner.invoke(client_app, ["archive", "verify", str(hall_out), "--key", str(key_file)])
    assert trusted.exit_code == 0, trusted.output
    private = Path(os.environ["HALL_SERVER_HOME"]) / "hall-key.json"
    assert private.stat().st_mode & 0o077 == 0 and "private_key" not in key_file.read_text("utf-8")


def test_hall_tampering_and_bad_input(server: Served, synced: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    assert hall("archive", "export", "--day", DAY, "--out", str(out), "--db", server.db_url).exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    first = json.loads((copy / MANIFEST).read_bytes())["cases"][0]["case_no"]
    (copy / first / "operations.json").write_text("{}", encoding="utf-8")
    (copy / "notes.txt").write_text("added", encoding="utf-8")
    result = hall("archive", "verify", str(copy), "--db", server.db_url, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    named = {(p["kind"], p["path"]) for p in report["problems"]}
    named |= {(p["kind"], p["path"]) for c in report["cases"] for p in c["problems"]}
    assert named == {("altered", f"{first}/operations.json"), ("added", "notes.txt")}
    (copy / SEAL).unlink()
    assert hall("archive", "verify", str(copy), "--db", server.db_url).exit_code == 1
    # Not an archive, an unknown case, a folder in use: clear messages, nothing written.
    assert hall("archive", "verify", str(tmp_path / "nowhere"), "--db", server.db_url).exit_code == 2
    unknown = hall(
        "archive", "export", "GXZX-20991231-00001", "--out", str(tmp_path / "u"), "--db", server.db_url
    )
    assert unknown.exit_code == 2 and "no such case" in unknown.stderr
    busy = hall("archive", "export", "--day", DAY, "--out", str(out), "--db", server.db_url)
    assert busy.exit_code == 2 and "not empty" in busy.stderr
    none = hall(
        "archive", "export", "--day", "2020-01-01", "--out", str(tmp_path / "n"), "--db", server.db_url
    )
    assert none.exit_code == 1
    assert not (tmp_path / "u").exists() and not (tmp_path / "n").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert verify_package(out, {}).seal["ok"] is False  # the hall's seal means nothing without its key
