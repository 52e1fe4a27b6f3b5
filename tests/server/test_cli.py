"""The ``hall-server`` command through Typer's CliRunner, on real database files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.main import get_command
from typer.testing import CliRunner

from hall_server.cli import app
from hall_server.domain.auth import Principal
from hall_server.services.batch import apply_batch
from hall_server.storage import make_engine, write_transaction
from models.sync import Operation
from tests.server.ops import INSTANT, accept, transition

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after ``demo-data`` (made once: hashing the demo passwords takes a while)."""
    path = tmp_path_factory.mktemp("seeded") / "hall.db"
    assert run("demo-data", "--db", f"sqlite:///{path}").exit_code == 0
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> str:
    copy = tmp_path / "hall.db"
    shutil.copyfile(seeded, copy)
    return f"sqlite:///{copy}"


def push(db: str, ops: list[dict[str, Any]], principal: Principal | None = None) -> None:
    engine = make_engine(db)
    with write_transaction(engine) as conn:
        apply_batch(
            conn,
            principal or Principal("C001", "GXZX", "clerk"),
            [Operation.model_validate(o) for o in ops],
            NOW,
        )
    engine.dispose()


def test_demo_data_prints_the_accounts_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run("demo-data", "--db", url, "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert set(data) == {"staff", "stations"}
    assert all(set(s) == {"staff_no", "password", "role", "station"} for s in data["staff"])
    assert all(set(s) == {"code", "name"} for s in data["stations"])
    staff = {s["staff_no"]: s for s in data["staff"]}
    assert staff["C001"] == {"staff_no": "C001", "password": "demo-1234", "role": "clerk", "station": "GXZX"}
    assert staff["S001"]["role"] == "supervisor" and staff["A001"]["password"] == "demo-9999"
    assert staff["Y001"] == {"staff_no": "Y001", "password": "demo-1234", "role": "clerk", "station": "JHYZ1"}
    codes = [s["code"] for s in data["stations"]]
    assert codes[0] == "GXZX" and {"JHYZ1", "JHYZ2", "GXYZ1", "JHZX"} <= set(codes)
    assert {s["station"] for s in data["staff"]} == set(codes)  # every station has someone to sign in
    again = run("demo-data", "--db", url, "--json")
    assert json.loads(again.output) == data
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM staff")).scalar() == len(data["staff"])
        assert conn.execute(text("SELECT COUNT(*) FROM stations")).scalar() == len(codes)
    engine.dispose()
    table = run("demo-data", "--db", url)
    assert "C001" in table.output and "demo-5678" in table.output


def test_the_demo_accounts_are_the_clients_demo_accounts() -> None:
    from hall_server.services.demo import MAIN_STAFF
    from window_client.services.staff import DEMO_STAFF

    assert [(no, name, role, pw) for no, name, role, pw in MAIN_STAFF] == list(DEMO_STAFF)


def test_cases_list_show_and_decide(db: str) -> None:
    tolerated, plain = "GXZX-20261120-00701", "GXZX-20261120-00702"
    approve = transition(plain, "approve", "accepted")
    push(db, [accept(tolerated, state="accepted_tolerated"), accept(plain, **INSTANT), approve])
    push(db, [transition(plain, "withdraw", "accepted")])  # wins over the approval: a conflict
    listed = run("cases", "list", "--json", "--db", db)
    assert listed.exit_code == 0
    cases = {c["case_no"]: c for c in json.loads(listed.output)["cases"]}
    assert set(cases) == {tolerated, plain}
    case = cases[plain]
    assert {
        "case_no",
        "state",
        "station",
        "item_code",
        "applicant_id_masked",
        "accepted_on",
        "updated_at",
        "conflicts",
    } <= set(case)
    assert (case["state"], case["station"]) == ("withdrawn", "GXZX")
    assert case["applicant_id_masked"] == "610113********7777"
    assert [c["op_id"] for c in case["conflicts"]] == [approve["op_id"]]
    only = json.loads(run("cases", "list", "--json", "--state", "accepted_tolerated", "--db", db).output)
    assert [c["case_no"] for c in only["cases"]] == [tolerated]
    assert json.loads(run("cases", "list", "--json", "--station", "JHYZ1", "--db", db).output) == {
        "cases": []
    }
    assert plain in run("cases", "list", "--db", db).output

    shown = run("cases", "show", plain, "--json", "--db", db)
    detail = json.loads(shown.output)
    assert [o["kind"] for o in detail["operations"]] == ["case.accept", "case.transition", "case.transition"]
    lost = [o for o in detail["operations"] if o["fold"] == "lost"]
    assert [o["op_id"] for o in lost] == [approve["op_id"]] and lost[0]["winner_event"] == "withdraw"
    assert "lost to withdraw" in run("cases", "show", plain, "--db", db).output

    decided = run("cases", "decide", tolerated, "refuse", "--db", db)
    assert decided.exit_code == 1  # a tolerated case is not decided before its 补正
    assert "not allowed" in decided.output
    push(db, [transition(tolerated, "supplement", "accepted_tolerated")])
    decided = run(
        "cases",
        "decide",
        tolerated,
        "approve",
        "--by",
        "审批科 王",
        "--reason",
        "材料齐全",
        "--json",
        "--db",
        db,
    )
    assert decided.exit_code == 0, decided.output
    outcome = json.loads(decided.output)
    assert (outcome["state"], outcome["event"]) == ("approved", "approve")
    assert outcome["op_id"].startswith("bo-")
    engine = make_engine(db)
    with engine.connect() as conn:
        change = conn.execute(
            text("SELECT payload, audience FROM changes WHERE kind = 'case.state' ORDER BY seq DESC")
        ).first()
        origin = conn.execute(
            text("SELECT origin FROM operations WHERE op_id = :o"), {"o": outcome["op_id"]}
        ).scalar()
    engine.dispose()
    assert change is not None and change[1] == "GXZX"
    payload = json.loads(change[0])
    assert (payload["state"], payload["by"], payload["reason"], payload["origin"]) == (
        "approved",
        "审批科 王",
        "材料齐全",
        "back-office",
    )
    assert origin == "back-office"


def test_decide_reports_bad_input_clearly(db: str) -> None:
    unknown = run("cases", "decide", "GXZX-20991231-99999", "approve", "--db", db)
    assert unknown.exit_code == 2 and "no such case" in unknown.output
    push(db, [accept("GXZX-20261120-00703")])
    wrong = run("cases", "decide", "GXZX-20261120-00703", "maybe", "--db", db)
    assert wrong.exit_code == 2 and "approve or refuse" in wrong.output
    assert run("cases", "show", "GXZX-20991231-99999", "--db", db).exit_code == 2
    assert run("cases", "list", "--state", "sideways", "--db", db).exit_code == 2


def test_publishing_reference_data_bumps_versions_and_tells_every_station(db: str, tmp_path: Path) -> None:
    catalog = ROOT / "models" / "data" / "catalog.json"
    first = json.loads(run("catalog", "publish", str(catalog), "--json", "--db", db).output)
    second = json.loads(run("catalog", "publish", str(catalog), "--json", "--db", db).output)
    assert (first["revision"], second["revision"]) == (1, 2)
    holidays = ROOT / "models" / "data" / "holidays" / "2026.json"
    published = json.loads(run("holidays", "publish", str(holidays), "--json", "--db", db).output)
    assert published == {"year": 2026, "version": 1}
    engine = make_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, key, audience, payload FROM changes ORDER BY seq")).all()
    engine.dispose()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("catalog", "catalog", "*"),
        ("catalog", "catalog", "*"),
        ("holidays", "2026", "*"),
    ]
    inline = json.loads(rows[2][3])
    assert inline["arrangement"]["holidays"][0]["dates"][0] == "2026-01-01"
    assert "2026-10-10" in [d for w in inline["arrangement"]["workdays"] for d in w["dates"]]

    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"year": 2027, "holidays": [{"name": "元旦", "dates": ["2026-12-31"]}]}', encoding="utf-8"
    )
    refused = run("holidays", "publish", str(broken), "--db", db)
    assert refused.exit_code == 2 and "outside 2027" in refused.output
    not_json = tmp_path / "catalog.json"
    not_json.write_text("{", encoding="utf-8")
    assert run("catalog", "publish", str(not_json), "--db", db).exit_code == 2
    assert run("catalog", "publish", str(tmp_path / "missing.json"), "--db", db).exit_code == 2


def test_unusable_database_urls_and_busy_ports_are_reported(tmp_path: Path) -> None:
    result = run("cases", "list", "--db", "mysql://nowhere/db")
    assert result.exit_code == 2 and "unsupported database URL" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2 and "cannot listen" in result.output


def test_every_command_has_help() -> None:
    command = get_command(app)
    names = (
        [[]]
        + [[name] for name in command.commands]
        + [  # type: ignore[attr-defined]
            [group, sub]
            for group in ("cases", "catalog", "holidays")
            for sub in command.commands[group].commands  # type: ignore[attr-defined]
        ]
    )
    for name in names:
        result = run(*name, "--help")
        assert result.exit_code == 0, name
        assert "Usage" in result.output


HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202eexe.\x00\x9b"


def test_stored_text_with_controls_is_printed_as_visible_escapes(db: str) -> None:
    # Text from before the hall refused it at the door, or written by other tools.
    case_no = "GXZX-20261120-00720"
    push(db, [accept(case_no)])
    engine = make_engine(db)
    with write_transaction(engine) as conn:
        conn.execute(text("UPDATE cases SET item_code = :t, station = :t"), {"t": HOSTILE})
        conn.execute(
            text(
                "INSERT INTO certificate_revocations (identifier, reason, revoked_at, revoked_by, station,"
                " received_at) VALUES (:t, :t, :t, 'S001', 'GXZX', 't')"
            ),
            {"t": HOSTILE},
        )
    engine.dispose()
    outputs = [
        run("cases", "list", "--db", db).output,
        run("cases", "show", case_no, "--db", db).output,
        run("certs", "revocations", "--db", db).output,
    ]
    for output in outputs:
        assert not any(ch in output for ch in "\x1b\x07\x00\x9b\u202e"), repr(output)
        assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202eexe.\\x00\\x9b" in output
    assert json.loads(run("cases", "list", "--json", "--db", db).output)["cases"][0]["item_code"] == HOSTILE
