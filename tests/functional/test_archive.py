"""电子档案 at the station: ``window-client archive export|verify`` on a real store with the demo's
cases (every state, a certificate, a signed 承诺书), then every way a package can be tampered with.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.archive.package import MANIFEST, SEAL, seal_manifest
from models.archive.slice import check_slice, slice_problems
from models.seal import generate_key_pair, sm3_hex
from tests.conftest import TODAY
from window_client.cli import app
from window_client.services.demo_seed import seed_demo_station
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.staff import seed_demo_staff

runner = CliRunner()
DAY = TODAY.isoformat()


@pytest.fixture(scope="module")
def station_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station filled by the demo (made once: the demo staff's password hashes take a while)."""
    home = tmp_path_factory.mktemp("station") / "home"
    rt = Runtime(Settings(home=home, server="http://127.0.0.1:9"), actor="C001")
    try:
        seed_demo_staff(rt.staff, rt.station.code)
        seed_demo_station(rt, TODAY)
    finally:
        rt.close()
    return home


@pytest.fixture
def env(station_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI pointed at the demo station."""
    monkeypatch.setenv("WINDOW_CLIENT_HOME", str(station_home))
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("WINDOW_CLIENT_LANG", "en")
    for name in ("WINDOW_CLIENT_STATION", "WINDOW_CLIENT_USER", "WINDOW_CLIENT_STATION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return station_home


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def said(result: Any) -> str:
    """stderr with Rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def db_rows(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "station.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def package(station_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The day's package, exported once through the CLI."""
    out = tmp_path_factory.mktemp("archive") / "day"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOW_CLIENT_HOME", str(station_home))
        mp.setenv("WINDOW_CLIENT_SERVER", "http://127.0.0.1:9")
        result = cli("archive", "export", "--day", DAY, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    yield out


def tampered(package: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    return copy


def verify_json(folder: Path) -> tuple[int, dict[str, Any]]:
    result = cli("archive", "verify", str(folder), "--json")
    return result.exit_code, json.loads(result.stdout)


def kinds(report: dict[str, Any]) -> set[tuple[str, str]]:
    found = {(p["kind"], p["path"]) for p in report["problems"]}
    return found | {(p["kind"], p["path"]) for c in report["cases"] for p in c["problems"]}


# ---------------------------------------------------------------- round trip


def test_export_writes_a_folder_per_case_with_record_documents_slice_and_metadata(
    env: Path, package: Path
) -> None:
    case_nos = [
        r[0] for r in db_rows(env, "SELECT case_no FROM cases WHERE accepted_on = ? ORDER BY id", DAY)
    ]
    manifest = json.loads((package / MANIFEST).read_bytes())
    assert [c["case_no"] for c in manifest["cases"]] == case_nos
    assert manifest["producer"]["kind"] == "station" and manifest["digest_algorithm"] == "SM3"
    for entry in manifest["files"]:
        assert sm3_hex((package / entry["path"]).read_bytes()) == entry["sm3"]
    # A tolerated case: its record holds every column, its checklist and history; the signed
    # 承诺书 and the 通知书 are among its documents; its slice links into the chain.
    [(tolerated,)] = db_rows(env, "SELECT case_no FROM cases WHERE state = 'accepted_tolerated' LIMIT 1")
    record = json.loads((package / tolerated / "case.json").read_bytes())
    columns = {r[1] for r in db_rows(env, "PRAGMA table_info(cases)")}
    assert set(record["case"]) == columns and record["case"]["applicant_id"]
    assert (
        len(record["materials"])
        == db_rows(env, "SELECT COUNT(*) FROM case_materials WHERE case_no = ?", tolerated)[0][0]
    )
    assert record["history"][0]["action"] == "case.accepted_tolerated"
    documents = sorted(p.name for p in (package / tolerated / "documents").iterdir())
    assert documents == [f"{tolerated}-commitment.html", f"{tolerated}-tolerance_notice.html"]
    assert "容缺受理承诺书" in (package / tolerated / "documents" / documents[0]).read_text("utf-8")
    slice_ = json.loads((package / tolerated / "audit.json").read_bytes())
    stored = db_rows(
        env,
        "SELECT seq, hash FROM audit_events WHERE subject = ? AND action != 'archive.export' ORDER BY seq",
        tolerated,
    )
    assert [(e["seq"], e["hash"]) for e in slice_["events"]] == stored
    # The certificate page of the issued case; the 件's metadata names every file with its digest.
    [(issued,)] = db_rows(env, "SELECT case_no FROM cases WHERE state = 'certificate_issued'")
    [(identifier,)] = db_rows(env, "SELECT identifier FROM certificate_cases WHERE case_no = ?", issued)
    assert (package / issued / "documents" / f"{identifier}.html").is_file()
    meta = ET.parse(package / issued / "metadata.xml").getroot()
    assert meta.findtext("档号", "").startswith(f"GXZX-YW·{TODAY.year}-D30-{issued}")
    assert meta.findtext("保管期限") == "定期30年" and meta.findtext("密级") == "非密"
    digests = {f.findtext("计算机文件名"): f.findtext("数字摘要") for f in meta.iter("文件")}
    assert digests[f"{identifier}.html"] == sm3_hex(
        (package / issued / "documents" / f"{identifier}.html").read_bytes()
    )
    assert (package / "说明文件.txt").is_file() and (package / "文件目录.xml").is_file()
    # Each archived case's trail says so.
    exported = db_rows(env, "SELECT COUNT(*) FROM audit_events WHERE action = 'archive.export'")[0][0]
    assert exported >= len(case_nos)


def test_an_untouched_package_verifies(env: Path, package: Path) -> None:
    code, report = verify_json(package)
    assert code == 0 and report["ok"], report
    assert report["seal"]["ok"] and report["seal"]["station"] == "GXZX"
    assert all(c["ok"] for c in report["cases"]) and report["files"] > len(report["cases"])
    human = cli("archive", "verify", str(package))
    assert human.exit_code == 0 and "archive intact" in human.stdout


def test_export_of_one_case_and_with_pdf(env: Path, tmp_path: Path) -> None:
    [(case_no,)] = db_rows(env, "SELECT case_no FROM cases WHERE state = 'not_accepted' LIMIT 1")
    out = tmp_path / "one"
    result = cli("archive", "export", case_no, "--out", str(out), "--pdf")
    assert result.exit_code == 0, result.output
    pdf = out / case_no / "documents" / f"{case_no}-one_time_notice.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert ET.parse(out / case_no / "metadata.xml").getroot().findtext("保管期限") == "定期10年"
    assert cli("archive", "verify", str(out)).exit_code == 0


# ---------------------------------------------------------------- tampering


def test_altered_added_and_removed_files_are_each_named(env: Path, package: Path, tmp_path: Path) -> None:
    copy = tampered(package, tmp_path)
    first, second, third = [c["case_no"] for c in json.loads((copy / MANIFEST).read_bytes())["cases"][:3]]
    record = copy / first / "case.json"
    record.write_bytes(record.read_bytes().replace(b'"state"', b'"state" ', 1))
    (copy / first / "documents" / "extra.html").write_text("<p>extra</p>", encoding="utf-8")
    (copy / second / "audit.json").unlink()
    shutil.rmtree(copy / third)
    before = db_rows(env, "SELECT COUNT(*) FROM audit_events")
    code, report = verify_json(copy)
    assert code == 1 and not report["ok"]
    assert kinds(report) == {
        ("altered", f"{first}/case.json"),
        ("added", f"{first}/documents/extra.html"),
        ("removed", f"{second}/audit.json"),
        ("removed", third),
    }
    assert report["seal"]["ok"]  # the manifest itself is untouched
    assert db_rows(env, "SELECT COUNT(*) FROM audit_events") == before  # verify writes nothing
    human = cli("archive", "verify", str(copy))
    assert human.exit_code == 1 and f"{first}/case.json was altered" in human.stdout


def test_an_edited_manifest_is_caught_by_the_seal(env: Path, package: Path, tmp_path: Path) -> None:
    copy = tampered(package, tmp_path)
    manifest = json.loads((copy / MANIFEST).read_bytes())
    path = manifest["files"][0]["path"]
    (copy / path).write_bytes(b"rewritten")
    manifest["files"][0].update(size=9, sm3=sm3_hex(b"rewritten"))
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    code, report = verify_json(copy)
    assert code == 1 and ("manifest_altered", MANIFEST) in kinds(report)
    # ... and so is a seal whose digest was brought into line with the edited manifest.
    seal = json.loads((copy / SEAL).read_bytes())
    seal["manifest_sm3"] = sm3_hex((copy / MANIFEST).read_bytes())
    (copy / SEAL).write_text(json.dumps(seal), encoding="utf-8")
    code, report = verify_json(copy)
    assert code == 1 and ("seal_invalid", SEAL) in kinds(report)


def test_a_package_resealed_with_another_key_is_refused(env: Path, package: Path, tmp_path: Path) -> None:
    copy = tampered(package, tmp_path)
    manifest = json.loads((copy / MANIFEST).read_bytes())
    victim = manifest["files"][0]
    (copy / victim["path"]).write_bytes(b"forged")
    victim.update(size=6, sm3=sm3_hex(b"forged"))
    data = json.dumps(manifest).encode()
    (copy / MANIFEST).write_bytes(data)
    forger = generate_key_pair("GXZX")  # a key of the right station's name that nobody published
    (copy / SEAL).write_bytes(seal_manifest(forger, data, "2026-11-20T10:00:00+00:00"))
    code, report = verify_json(copy)
    assert code == 1 and kinds(report) == {("seal_unknown_key", SEAL)}
    # Naming the station's real key id with the forger's public key does not help either.
    seal = json.loads((copy / SEAL).read_bytes())
    real = json.loads((package / SEAL).read_bytes())["key_id"]
    seal["key_id"] = real
    (copy / SEAL).write_text(json.dumps(seal), encoding="utf-8")
    code, report = verify_json(copy)
    assert code == 1 and kinds(report) == {("seal_key_mismatch", SEAL)}


def test_a_removed_seal_or_manifest_is_named(env: Path, package: Path, tmp_path: Path) -> None:
    copy = tampered(package, tmp_path)
    (copy / SEAL).unlink()
    code, report = verify_json(copy)
    assert code == 1 and kinds(report) == {("seal_missing", SEAL)}
    (copy / MANIFEST).write_bytes(b"{not json")
    shutil.copy(package / SEAL, copy / SEAL)
    code, report = verify_json(copy)
    assert code == 1 and ("manifest_altered", MANIFEST) in kinds(report)


def test_a_manifest_path_outside_the_package_is_never_read(env: Path, package: Path, tmp_path: Path) -> None:
    copy = tampered(package, tmp_path)
    manifest = json.loads((copy / MANIFEST).read_bytes())
    manifest["files"].append({"path": "../../etc/passwd", "size": 1, "sm3": "0" * 64})
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    code, report = verify_json(copy)
    assert code == 1 and ("bad_path", "../../etc/passwd") in kinds(report)


# ---------------------------------------------------------------- bad input


def test_not_an_archive_exits_2(env: Path, package: Path, tmp_path: Path) -> None:
    missing = cli("archive", "verify", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "does not exist" in said(missing)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / MANIFEST).write_text('{"name": "a web app"}', encoding="utf-8")  # someone else's manifest
    code, report = verify_json(plain)
    assert code == 2 and report["error"] == "not_an_archive"
    case_folder = next(p for p in package.iterdir() if p.is_dir())
    one = cli("archive", "verify", str(case_folder))
    assert one.exit_code == 2 and "verify that folder" in said(one)
    assert "Traceback" not in one.output


def test_bad_exports_change_nothing(env: Path, package: Path, tmp_path: Path) -> None:
    events = db_rows(env, "SELECT COUNT(*) FROM audit_events")
    unknown = cli("archive", "export", "GXZX-20261120-99999", "--out", str(tmp_path / "x"))
    assert unknown.exit_code == 2 and "GXZX-20261120-99999" in said(unknown)
    empty_day = cli("archive", "export", "--day", "2020-01-01", "--out", str(tmp_path / "y"))
    assert empty_day.exit_code == 1 and "nothing to archive" in said(empty_day)
    before = sorted(p.relative_to(package) for p in package.rglob("*"))
    over = cli("archive", "export", "--day", DAY, "--out", str(package))
    assert over.exit_code == 2 and "not empty" in said(over)
    assert sorted(p.relative_to(package) for p in package.rglob("*")) == before
    both = cli("archive", "export", "X", "--day", DAY, "--out", str(tmp_path / "z"))
    assert both.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no partial leftovers
    assert db_rows(env, "SELECT COUNT(*) FROM audit_events") == events


# ---------------------------------------------------------------- the audit slice, offline


def test_the_audit_slice_check_finds_an_altered_event_and_a_wrong_state(package: Path) -> None:
    case_no = json.loads((package / MANIFEST).read_bytes())["cases"][0]["case_no"]
    events = json.loads((package / case_no / "audit.json").read_bytes())["events"]
    state = json.loads((package / case_no / "case.json").read_bytes())["case"]["state"]
    assert check_slice(case_no, state, events) == []
    forged = [dict(events[0], actor="someone else"), *events[1:]]
    assert any("was altered" in m for m in check_slice(case_no, state, forged))
    assert any("lead to" in m for m in check_slice(case_no, "delivered", events))
    assert any(
        p.zh() == "第{}条事件（{}）与其哈希值不符：已被篡改".format(events[0]["seq"], events[0]["action"])
        for p in slice_problems(case_no, state, forged)
    )
