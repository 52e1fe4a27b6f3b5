"""Hostile or damaged batch files: formula cells, numeric ID cells, mixed encodings, deep JSON.

Driven through the real CLI (CliRunner) on a real store; assertions read the exit code, the
report, the rejects file and the station's SQLite file.
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from models.catalog import Catalog
from models.identity import check_person_id
from tests.functional.test_cli import complete_row, report_of, run, write
from window_client.services.batch import ALL_COLUMNS
from window_client.services.samples import person_id

TODAY = "2026-11-20"
FORMULAS = ['=HYPERLINK("http://evil.example/","点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def accept(path: Path, report: Path, lang: str = "zh") -> Any:
    return run("--lang", lang, "batch", "accept", str(path), "--today", TODAY, "--report", str(report))


def cases(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "station.db") as db:
        return db.execute("SELECT applicant_id, applicant_name FROM cases ORDER BY applicant_id").fetchall()


def test_formula_cells_are_neutralised_in_the_rejects_file_and_a_fixed_file_runs_again(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    rows = [
        complete_row(catalog, f"F{n}") | {"applicant_name": formula} for n, formula in enumerate(FORMULAS)
    ]
    rows.append(complete_row(catalog, "=F9") | {"applicant_id": "\t=1+1", "phone": "\r@x"})
    path = write(tmp_path / "in.csv", rows)
    result = accept(path, tmp_path / "r.json")
    assert result.exit_code == 1
    rejects_path = tmp_path / "in.csv.rejects.csv"
    with rejects_path.open(encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    risky = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == [], risky
    written = rejects_path.read_text(encoding="utf-8-sig")
    for formula in FORMULAS:
        assert "'" + formula in written or "'" + formula.replace('"', '""') in written

    # The clerk fixes the names in the rejects file and runs it again as it is.
    with rejects_path.open(encoding="utf-8-sig", newline="") as fh:
        fixed = list(csv.DictReader(fh))
    for row in fixed[:4]:
        row["applicant_name"] = "钱七"
    with rejects_path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fixed[0]))
        writer.writeheader()
        writer.writerows(fixed[:4])
    again = accept(rejects_path, tmp_path / "r2.json")
    assert again.exit_code == 0, again.output
    assert [r["status"] for r in report_of(tmp_path / "r2.json")["rows"]] == ["accepted"] * 4
    assert {name for _, name in cases(home)} == {"钱七"}
    # The re-run's own rejects go beside it, never over the file that was run.
    assert (tmp_path / "in.csv.rejects.csv.rejects.csv").exists()
    assert len(list(csv.DictReader(rejects_path.open(encoding="utf-8-sig")))) == 4


def test_a_quote_before_a_formula_character_is_read_as_the_protection_it_is(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    row = complete_row(catalog, "'-Q1")
    path = write(tmp_path / "q.csv", [row])
    assert accept(path, tmp_path / "r.json").exit_code == 0
    with sqlite3.connect(home / "station.db") as db:
        keys = db.execute("SELECT dedupe_key FROM cases").fetchall()
    assert keys == [("ref:-Q1",)]


def _float_twin(rng: random.Random) -> tuple[str, float]:
    """A valid ID whose nearest float reads back as another valid ID (what Excel keeps)."""
    while True:
        number = person_id(rng)
        if number.endswith("X"):
            continue
        stored = float(number)
        twin = str(int(stored))
        if twin != number and check_person_id(twin)[1] is None:
            return number, stored


def test_a_numeric_id_cell_is_refused_not_read_as_another_id(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    from openpyxl import Workbook

    number, stored = _float_twin(random.Random(7))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(ALL_COLUMNS))
    as_float = complete_row(catalog, "N1")
    as_int = complete_row(catalog, "N2")
    as_text = complete_row(catalog, "N3")
    sheet.append([stored if c == "applicant_id" else as_float[c] for c in ALL_COLUMNS])
    sheet.append([int(as_int[c]) if c == "applicant_id" else as_int[c] for c in ALL_COLUMNS])
    sheet.append([as_text[c] for c in ALL_COLUMNS])
    path = tmp_path / "ids.xlsx"
    book.save(path)
    result = accept(path, tmp_path / "r.json")
    assert result.exit_code == 1
    rows = report_of(tmp_path / "r.json")["rows"]
    assert [r["status"] for r in rows] == ["invalid", "invalid", "accepted"]
    assert [r["codes"] for r in rows[:2]] == [["row.numeric_id_cell"]] * 2
    assert all("文本" in " ".join(r["errors"]) for r in rows[:2])  # Chinese unless asked otherwise
    assert cases(home) == [(as_text["applicant_id"], as_text["applicant_name"])]
    assert number not in {i for i, _ in cases(home)}


def test_a_numeric_id_in_json_lines_is_refused(home: Path, tmp_path: Path, catalog: Catalog) -> None:
    _, stored = _float_twin(random.Random(8))
    line = json.dumps(complete_row(catalog, "J1") | {"applicant_id": stored}, ensure_ascii=False)
    path = tmp_path / "ids.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert accept(path, tmp_path / "r.json").exit_code == 1
    [row] = report_of(tmp_path / "r.json")["rows"]
    assert row["status"] == "invalid" and row["codes"] == ["row.numeric_id_json"]
    assert cases(home) == []


def test_a_file_mixing_utf8_and_gbk_rows_is_refused_with_the_lines(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    header = ",".join(ALL_COLUMNS) + "\r\n"
    utf8, gbk = (complete_row(catalog, f"M{n}") | {"applicant_name": "欧阳娜娜"} for n in range(2))
    line = lambda row: ",".join(row[c] for c in ALL_COLUMNS) + "\r\n"  # noqa: E731
    path = tmp_path / "mixed.csv"
    path.write_bytes(header.encode() + line(utf8).encode("utf-8") + line(gbk).encode("gbk"))
    result = accept(path, tmp_path / "r.json", lang="en")
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "line 2" in flat and "line 3" in flat and "UTF-8" in flat and "GBK" in flat
    assert "Traceback" not in result.output
    chinese = accept(path, tmp_path / "r.json")
    assert chinese.exit_code == 2
    flat = "".join(chinese.output.split())
    assert flat.startswith("错误：") and "第2行" in flat and "第3行" in flat
    assert not (home / "station.db").exists() or cases(home) == []


def test_a_utf8_bom_before_gbk_text_is_a_clean_file_error(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    rows = [complete_row(catalog, "B1") | {"applicant_name": "欧阳娜娜"}]
    gbk = write(tmp_path / "plain.csv", rows, encoding="gbk").read_bytes()
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + gbk)
    result = accept(path, tmp_path / "r.json", lang="en")
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "byte order mark" in flat and "line 2" in flat
    assert "Traceback" not in result.output


@pytest.mark.parametrize("depth", [3, 5_000, 200_000])
def test_a_deeply_nested_json_line_is_one_invalid_row(
    home: Path, tmp_path: Path, catalog: Catalog, depth: int
) -> None:
    good = [complete_row(catalog, f"D{depth}-{n}") for n in range(2)]
    deep = complete_row(catalog, "D-deep")
    nested = "[" * depth + '"x"' + "]" * depth
    deep_line = json.dumps(deep, ensure_ascii=False).replace('"赵六"', nested)
    whole = '{"item_code": ' + "[" * depth + "1" + "]" * depth + "}"
    lines = [
        json.dumps(good[0], ensure_ascii=False),
        deep_line,
        whole,
        json.dumps(good[1], ensure_ascii=False),
    ]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = accept(path, tmp_path / "r.json")
    assert result.exit_code == 1, result.output
    rows = report_of(tmp_path / "r.json")["rows"]
    assert [r["status"] for r in rows] == ["accepted", "invalid", "invalid", "accepted"]
    reasons = [" ".join(r["errors"]) for r in rows[1:3]]
    if depth < 100:  # a list where text belongs, named by its key
        assert [r["codes"] for r in rows[1:3]] == [["row.json_not_text"]] * 2
        assert "applicant_name" in reasons[0] and "item_code" in reasons[1], reasons
    else:
        assert [r["codes"] for r in rows[1:3]] == [["row.json_too_deep"]] * 2, reasons
    assert len(cases(home)) == 2


def test_a_dry_run_writes_no_rejects_file_and_leaves_the_last_one_alone(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    rows = [complete_row(catalog, "P1"), complete_row(catalog, "P2") | {"applicant_name": ""}]
    work = tmp_path / "in"
    work.mkdir()
    path = write(work / "b.csv", rows)
    rejects = work / "b.csv.rejects.csv"
    dry = run("batch", "accept", str(path), "--dry-run", "--today", TODAY)
    assert dry.exit_code == 1  # a row would be rejected: the same exit code as a real run
    assert [p.name for p in work.iterdir()] == ["b.csv"]  # nothing written beside it
    assert "1 行将不予受理" in dry.output
    assert run("batch", "accept", str(path), "--today", TODAY).exit_code == 1
    written = rejects.read_bytes()
    assert [r["row"] for r in csv.DictReader(rejects.open(encoding="utf-8-sig"))] == ["2"]
    fixed = write(work / "b.csv", [rows[0], rows[1] | {"applicant_name": "孙八"}])
    report = tmp_path / "r.json"
    again = run("batch", "accept", str(fixed), "--dry-run", "--today", TODAY, "--report", str(report))
    assert again.exit_code == 0
    assert rejects.read_bytes() == written  # the clerk's rejects file is still the last real run's
    assert [r["status"] for r in report_of(report)["rows"]] == ["duplicate", "accepted"]


def test_files_with_the_same_stem_keep_their_own_rejects(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    from openpyxl import Workbook

    bad_csv = complete_row(catalog, "S1") | {"applicant_name": ""}
    bad_json = complete_row(catalog, "S2") | {"phone": "12"}
    bad_xlsx = complete_row(catalog, "S3") | {"item_code": "NOPE-9"}
    write(tmp_path / "b.csv", [bad_csv])
    (tmp_path / "b.jsonl").write_text(json.dumps(bad_json, ensure_ascii=False) + "\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(ALL_COLUMNS))
    sheet.append([bad_xlsx[c] for c in ALL_COLUMNS])
    book.save(tmp_path / "b.xlsx")
    for name in ("b.csv", "b.jsonl", "b.xlsx"):
        result = run("--lang", "en", "batch", "accept", str(tmp_path / name), "--today", TODAY)
        assert result.exit_code == 1, result.output
        assert f"{name}.rejects.csv" in " ".join(result.output.split())
    refs = {}
    for name in ("b.csv", "b.jsonl", "b.xlsx"):
        with (tmp_path / f"{name}.rejects.csv").open(encoding="utf-8-sig") as fh:
            refs[name] = [(r["external_ref"], r["errors"]) for r in csv.DictReader(fh)]
    assert [ref for ref, _ in refs["b.csv"]] == ["S1"] and "empty" in refs["b.csv"][0][1]
    assert [ref for ref, _ in refs["b.jsonl"]] == ["S2"] and "phone" in refs["b.jsonl"][0][1]
    assert [ref for ref, _ in refs["b.xlsx"]] == ["S3"] and "NOPE-9" in refs["b.xlsx"][0][1]
