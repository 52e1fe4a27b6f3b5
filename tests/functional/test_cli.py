"""The CLI contracts of DESIGN.md §6, driven through Typer's CliRunner on a real store."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from models.catalog import Catalog
from models.enums import Tolerance
from window_client.cli import app
from window_client.services.batch import ALL_COLUMNS
from window_client.services.samples import credit_code, person_id

runner = CliRunner()
RNG = random.Random(5)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def complete_row(catalog: Catalog, ref: str, item_code: str = "") -> dict[str, str]:
    """A row that should be accepted: a person item with all required materials."""
    item = catalog.items[item_code] if item_code else next(
        i for i in catalog.items.values()
        if not any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in i.materials)
    )  # fmt: skip
    return {
        "item_code": item.code,
        "applicant_type": "person",
        "applicant_id": person_id(RNG),
        "applicant_name": "赵六",
        "phone": "13900139000",
        "materials": ";".join(m.code for m in item.materials if m.tolerance is not Tolerance.OPTIONAL),
        "commitment": "yes",
        "external_ref": ref,
        "identity": "",  # the optional column left empty: 身份证原件
    }


def write(
    path: Path,
    rows: list[dict[str, str]],
    encoding: str = "utf-8",
    columns: tuple[str, ...] = ALL_COLUMNS,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    return path


def report_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_command_has_help() -> None:
    group = get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, sub in group.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        for child in getattr(sub, "commands", {}):
            child_help = run(name, child, "--help")
            assert child_help.exit_code == 0, (name, child)
            assert "Usage" in child_help.output


def test_catalog_list_json_contract(home: Path, catalog: Catalog) -> None:
    result = run("catalog", "list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert len(data["items"]) == len(catalog.items)  # the default station is a hall: everything
    assert {p["code"] for p in data["packages"]} == set(catalog.packages)


def test_catalog_search_json_finds_by_initials(home: Path) -> None:
    result = run("catalog", "search", "bdcdj", "--json")
    data = json.loads(result.output)
    assert data["items"] and all("不动产" in i["name"] for i in data["items"][:5])


def test_park_station_lists_its_subset(home: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    park = next(s for s in catalog.stations.values() if s.item_codes is not None)
    monkeypatch.setenv("WINDOW_CLIENT_STATION", park.code)
    data = json.loads(run("catalog", "list", "--json").output)
    assert 0 < len(data["items"]) < len(catalog.items)
    assert {i["code"] for i in data["items"]} <= set(park.item_codes or ())


def test_unknown_station_is_a_clear_usage_error(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDOW_CLIENT_STATION", "NOWHERE")
    result = runner.invoke(app, ["catalog", "list"])
    assert result.exit_code == 2
    assert "未知的站点代码'NOWHERE'" in result.output
    assert "Traceback" not in result.output
    english = runner.invoke(app, ["--lang", "en", "catalog", "list"])
    assert english.exit_code == 2 and "unknown station 'NOWHERE'" in english.output


def test_batch_with_every_kind_of_bad_row_keeps_the_good_ones(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    good = [complete_row(catalog, f"G{n}") for n in range(3)]
    bad_id = complete_row(catalog, "B1") | {"applicant_id": "110105194912310021"}
    bad_org = complete_row(catalog, "B2") | {
        "applicant_type": "org",
        "applicant_id": "91110000600037341X",
        "applicant_name": "测试公司",
    }
    unknown_item = complete_row(catalog, "B3") | {"item_code": "NOPE-1"}
    unknown_material = complete_row(catalog, "B4") | {"materials": "NOT_A_MATERIAL"}
    empty_name = complete_row(catalog, "B5") | {"applicant_name": "  "}
    escape_name = complete_row(catalog, "B6") | {"applicant_name": "张\x1b[2J三"}
    markup_name = complete_row(catalog, "B7") | {"applicant_name": "[red]李四[/red]"}
    injection = complete_row(catalog, "B8") | {"applicant_name": "Robert'); DROP TABLE cases;--"}
    huge = complete_row(catalog, "B9") | {"applicant_name": "王" * 200_000}
    bad_type = complete_row(catalog, "B10") | {"applicant_type": "robot"}
    bad_commitment = complete_row(catalog, "B11") | {"commitment": "maybe"}
    rows = [good[0], bad_id, bad_org, unknown_item, unknown_material, good[1], empty_name,
            escape_name,
            markup_name, injection, huge, bad_type, bad_commitment, good[2]]  # fmt: skip
    path = write(tmp_path / "mixed.csv", rows)
    report = tmp_path / "report.json"
    result = run("batch", "accept", str(path), "--today", "2026-11-20", "--report", str(report))
    assert result.exit_code == 1
    data = report_of(report)
    statuses = [r["status"] for r in data["rows"]]
    assert statuses == ["accepted"] + ["invalid"] * 4 + ["accepted"] + ["invalid"] * 7 + ["accepted"]
    codes = {r["row"]: r["codes"] for r in data["rows"]}
    assert codes[2] == ["id.check"] and codes[3] == ["uscc.check"]
    assert codes[4] == ["item.unknown"] and codes[5] == ["material.unknown"]
    assert "name.empty" in codes[7] and codes[8] == ["name.control"]
    assert codes[9] == codes[10] == ["name.chars"] and codes[11] == ["name.too_long"]
    assert codes[12] == codes[13] == ["field.invalid"]
    errors = {r["row"]: " ".join(r["errors"]) for r in data["rows"]}
    # The reasons are Chinese by default (the counter's language), with the values they name.
    assert "校验位" in errors[2] and "NOT_A_MATERIAL" in errors[5]
    assert "applicant_type" in errors[12] and "commitment" in errors[13]
    assert data["summary"]["accepted"] == 3 and data["summary"]["invalid"] == 11
    rejects_path = tmp_path / "mixed.csv.rejects.csv"
    rejects = list(csv.DictReader(rejects_path.open(encoding="utf-8-sig")))
    assert [int(r["row"]) for r in rejects] == list(range(2, 5 + 1)) + list(range(7, 13 + 1))
    assert all(r["errors"] for r in rejects) and "校验位" in rejects[0]["errors"]
    assert "\x1b" not in rejects_path.read_text(encoding="utf-8-sig")
    db = sqlite3.connect(home / "station.db")
    assert db.execute("SELECT COUNT(*) FROM cases").fetchone() == (3,)
    assert db.execute("SELECT COUNT(*) FROM outbox").fetchone() == (3,)
    assert run("audit", "verify").exit_code == 0


def test_rerun_accepts_nothing_twice_and_dry_run_writes_nothing(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    path = write(tmp_path / "b.csv", [complete_row(catalog, f"R{n}") for n in range(5)])
    report = tmp_path / "r.json"
    dry = run("batch", "accept", str(path), "--dry-run", "--today", "2026-11-20", "--report", str(report))
    assert dry.exit_code == 0
    assert report_of(report)["summary"]["accepted"] == 5
    assert all(r["case_no"] is None for r in report_of(report)["rows"])
    assert not (home / "station.db").exists() or sqlite3.connect(home / "station.db").execute(
        "SELECT COUNT(*) FROM cases"
    ).fetchone() == (0,)
    assert run("batch", "accept", str(path), "--today", "2026-11-20").exit_code == 0
    again = run("batch", "accept", str(path), "--today", "2026-11-20", "--report", str(report))
    assert again.exit_code == 0
    data = report_of(report)
    assert data["summary"]["duplicate"] == 5 and data["summary"]["accepted"] == 0
    assert all(r["case_no"] for r in data["rows"])
    assert sqlite3.connect(home / "station.db").execute("SELECT COUNT(*) FROM cases").fetchone() == (5,)


def test_rerun_without_external_ref_uses_the_file_fingerprint(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    columns = tuple(c for c in ALL_COLUMNS if c != "external_ref")
    path = write(tmp_path / "noref.csv", [complete_row(catalog, "x") for _ in range(4)], columns=columns)
    assert run("batch", "accept", str(path), "--today", "2026-11-20").exit_code == 0
    assert run("batch", "accept", str(path), "--today", "2026-11-20").exit_code == 0
    assert sqlite3.connect(home / "station.db").execute("SELECT COUNT(*) FROM cases").fetchone() == (4,)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings_are_detected(home: Path, tmp_path: Path, catalog: Catalog, encoding: str) -> None:
    rows = [complete_row(catalog, f"E{n}") | {"applicant_name": "欧阳娜娜"} for n in range(2)]
    path = write(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    assert run("batch", "accept", str(path), "--today", "2026-11-20").exit_code == 0
    names = (
        sqlite3.connect(home / "station.db").execute("SELECT DISTINCT applicant_name FROM cases").fetchall()
    )
    assert names == [("欧阳娜娜",)]


def test_file_in_no_known_encoding_is_refused_whole(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(",".join(ALL_COLUMNS).encode("utf-16"))
    result = runner.invoke(app, ["--lang", "en", "batch", "accept", str(path)])
    assert result.exit_code == 2
    assert "neither UTF-8 nor GBK" in result.output


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "item_code,applicant_type,applicant_id,applicant_name,phone,materials",
            "missing column(s): commitment",
        ),
        (",".join(ALL_COLUMNS) + ",colour", "unknown column(s): 'colour'"),
        ("", "empty"),
    ],
)
def test_bad_header_rejects_the_file(home: Path, tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(header + ("\n" if header else ""), encoding="utf-8")
    result = runner.invoke(app, ["--lang", "en", "batch", "accept", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert not (home / "station.db").exists() or sqlite3.connect(home / "station.db").execute(
        "SELECT COUNT(*) FROM cases"
    ).fetchone() == (0,)


def test_xlsx_and_a_truncated_xlsx(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(ALL_COLUMNS))
    for n in range(3):
        row = complete_row(catalog, f"X{n}")
        sheet.append([row[c] for c in ALL_COLUMNS])
    path = tmp_path / "in.xlsx"
    book.save(path)
    assert run("batch", "accept", str(path), "--today", "2026-11-20").exit_code == 0
    assert sqlite3.connect(home / "station.db").execute("SELECT COUNT(*) FROM cases").fetchone() == (3,)
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = runner.invoke(app, ["batch", "accept", str(truncated)])
    assert result.exit_code == 2
    assert "XLSX" in result.output and "Traceback" not in result.output


def test_json_lines(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    rows = [complete_row(catalog, f"J{n}") for n in range(2)]
    rows[1]["materials"] = rows[1]["materials"].split(";")  # type: ignore[assignment]
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    assert run("batch", "accept", str(path), "--today", "2026-11-20", "--report", str(report)).exit_code == 1
    assert [r["status"] for r in report_of(report)["rows"]] == ["accepted", "accepted", "invalid"]


def test_tolerated_and_provisional_rows_in_the_report(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    item = next(
        i for i in catalog.items.values()
        if i.promised.days >= 10 and any(m.tolerance is Tolerance.TOLERABLE for m in i.materials)
        and not any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in i.materials)
    )  # fmt: skip
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    row = complete_row(catalog, "T1", item.code)
    row["materials"] = ";".join(
        m.code for m in item.materials if m.tolerance is not Tolerance.OPTIONAL and m.code != missing.code
    )
    path = write(tmp_path / "t.csv", [row, complete_row(catalog, "T2", item.code)])
    report = tmp_path / "r.json"
    assert run("batch", "accept", str(path), "--today", "2026-12-20", "--report", str(report)).exit_code == 0
    tolerated, accepted = report_of(report)["rows"]
    assert tolerated["status"] == "accepted_tolerated"
    assert tolerated["missing"] == [missing.code]
    assert tolerated["due_date"] is None and tolerated["supplement_due"]
    assert accepted["status"] == "accepted" and accepted["due_date"].startswith("2027-")
    assert accepted["provisional_dates"] is True
    listed = json.loads(run("cases", "list", "--json", "--today", "2026-12-20").output)["cases"]
    assert {c["state"] for c in listed} == {"accepted", "accepted_tolerated"}
    for case in listed:
        assert {"case_no", "item_code", "state", "applicant_id_masked", "accepted_on", "due_date",
                "supplement_due", "flag", "synced"} <= set(case)  # fmt: skip
        assert "applicant_id" not in case
        assert case["synced"] is False
    shown = json.loads(run("cases", "show", tolerated["case_no"], "--json").output)
    assert shown["case_no"] == tolerated["case_no"]
    assert shown["documents"][0]["title"] == "容缺受理通知书"
    text = run("cases", "show", tolerated["case_no"], "--documents").output
    assert "容缺受理通知书" in text and "档案联" in text


def test_unknown_case_is_exit_2(home: Path) -> None:
    result = runner.invoke(app, ["cases", "show", "NOPE-1", "--json"])
    assert result.exit_code == 2
    assert "找不到办件：NOPE-1" in result.output  # Chinese by default
    english = runner.invoke(app, ["--lang", "en", "cases", "show", "NOPE-1", "--json"])
    assert english.exit_code == 2 and "no such case" in english.output


def test_audit_verify_names_the_altered_event(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path / "a.csv", [complete_row(catalog, f"A{n}") for n in range(3)])
    run("batch", "accept", str(path), "--today", "2026-11-20")
    db = sqlite3.connect(home / "station.db")
    db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    db.commit()
    result = run("audit", "verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["problem"]["seq"] == 2


def test_calendar_import_makes_next_year_definite(home: Path, tmp_path: Path) -> None:
    before = json.loads(run("calendar", "add", "2026-12-20", "20", "--json").output)
    assert before["provisional"] is True
    arrangement = {
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
        "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}],
        "workdays": [],
    }
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(arrangement, ensure_ascii=False), encoding="utf-8")
    assert run("calendar", "import", str(path)).exit_code == 0
    after = json.loads(run("calendar", "add", "2026-12-20", "20", "--json").output)
    assert after["provisional"] is False
    # Weekends only, the 20th working day is Friday 2027-01-15; with 2027-01-01 a holiday it
    # moves to the next Monday.
    assert before["date"] == "2027-01-15"
    assert after["date"] == "2027-01-18"
    path.write_text('{"year": 2027, "holidays": []}', encoding="utf-8")
    bad = runner.invoke(app, ["calendar", "import", str(path)])
    assert bad.exit_code == 2
    assert "节假日安排无法使用" in bad.output and "未列出任何节假日" in bad.output


def test_sample_command_accepts_the_sample_batch_once(home: Path) -> None:
    first = run("sample")
    assert first.exit_code == 0
    assert "批量受理结果" in first.output
    count = sqlite3.connect(home / "station.db").execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    assert count > 0
    run("sample")
    assert sqlite3.connect(home / "station.db").execute("SELECT COUNT(*) FROM cases").fetchone()[0] == count


def test_org_applicant(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    item = next(
        i for i in catalog.items.values()
        if any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in i.materials)
    )  # fmt: skip
    row = complete_row(catalog, "O1", item.code) | {
        "applicant_type": "org", "applicant_id": credit_code(RNG),
        "applicant_name": "西安秦创科技有限公司（分公司）",
    }  # fmt: skip
    report = tmp_path / "r.json"
    run(
        "batch",
        "accept",
        str(write(tmp_path / "o.csv", [row])),
        "--today",
        "2026-11-20",
        "--report",
        str(report),
    )
    assert report_of(report)["rows"][0]["status"] == "accepted"


def test_stored_text_with_controls_or_markup_is_printed_inert(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    # Text from the hall, an older version or another tool: the CLI shows it, it does not act.
    run(
        "batch",
        "accept",
        str(write(tmp_path / "a.csv", [complete_row(catalog, "T1")])),
        "--today",
        "2026-11-20",
    )
    hostile = "\x1b]0;p\x07[bold]x[/bold]\u202e\x9b"
    with sqlite3.connect(home / "station.db") as db:
        case_no = db.execute("SELECT case_no FROM cases").fetchone()[0]
        db.execute("UPDATE cases SET applicant_name = ?", (hostile,))
    listed, shown = run("cases", "list").output, run("cases", "show", case_no).output
    for output in (listed, shown):
        assert not any(ch in output for ch in "\x1b\x07\u202e\x9b"), repr(output)
    assert "\\x1b]0;p\\" in listed  # the table cuts the cell short
    assert "申请人：\\x1b]0;p\\x07[bold]x[/bold]\\u202e\\x9b（" in shown
