"""The CLI as staff meet it: Chinese unless asked otherwise (``--lang``, WINDOW_CLIENT_LANG, the
locale), the same exit codes and JSON keys in both languages, and ``cases list`` at narrow
terminals without a cut case number or date. Driven through CliRunner on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from models.catalog import Catalog
from tests.functional.test_cli import complete_row, report_of, write
from window_client.cli import app
from window_client.cli.lang import language_from

runner = CliRunner()
TODAY = "2026-11-20"
NO_LOCALE = {"WINDOW_CLIENT_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


def invoke(*args: str, **env: str | None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={**NO_LOCALE, **env}, catch_exceptions=False)
    return result.exit_code, result.output


def terminal(*args: str, columns: int) -> str:
    """``window-client ARGS`` in its own process on a terminal ``columns`` wide (a console
    reads COLUMNS once, when it is made: in-process runs would all share the first width)."""
    env = {k: v for k, v in os.environ.items() if k not in NO_LOCALE} | {"COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-c", "from window_client.cli import main; main()", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "zh"),
        ({"LANG": "C.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "WINDOW_CLIENT_LANG": "zh"}, "zh"),
        ({"WINDOW_CLIENT_LANG": "EN"}, "en"),
        ({"WINDOW_CLIENT_LANG": "zh_CN"}, "zh"),
    ],
)
def test_the_language_comes_from_the_environment(environ: dict[str, str], language: str) -> None:
    assert language_from(environ) == language


def test_errors_are_chinese_by_default_and_english_on_request(home: Path) -> None:
    for args, env in [((), {}), ((), {"LANG": "zh_CN.UTF-8"}), (("--lang", "zh"), {"LANG": "en_US.UTF-8"})]:
        code, output = invoke(*args, "cases", "show", "NOPE-1", **env)
        assert code == 2 and output.startswith("错误：找不到办件：NOPE-1"), (args, env, output)
    for args, env in [
        (("--lang", "en"), {}),
        ((), {"WINDOW_CLIENT_LANG": "en"}),
        ((), {"LANG": "en_US.UTF-8"}),
        (("--lang", "EN"), {"WINDOW_CLIENT_LANG": "zh"}),
    ]:
        code, output = invoke(*args, "cases", "show", "NOPE-1", **env)
        assert code == 2 and output.startswith("error: no such case: NOPE-1"), (args, env, output)


def test_a_bad_language_is_a_usage_error_in_both_languages(home: Path) -> None:
    code, output = invoke("cases", "list", WINDOW_CLIENT_LANG="fr")
    flat = " ".join(output.split())
    assert code == 2
    assert "WINDOW_CLIENT_LANG must be zh or en" in flat and "WINDOW_CLIENT_LANG 须为 zh 或 en" in flat
    code, output = invoke("--lang", "fr", "cases", "list")
    assert code == 2 and "--lang" in output and "Traceback" not in output


def test_batch_reasons_follow_the_language_and_the_json_keys_do_not(
    home: Path, tmp_path: Path, catalog: Catalog
) -> None:
    outputs, reports = {}, {}
    for lang in ("zh", "en"):
        bad_id = {"applicant_id": "110105194912310021"}
        rows = [complete_row(catalog, f"{lang}1"), complete_row(catalog, f"{lang}2") | bad_id]
        path = write(tmp_path / f"{lang}.csv", rows)
        report = tmp_path / f"{lang}.json"
        code, outputs[lang] = invoke("--lang", lang, "batch", "accept", str(path), "--today", TODAY,
                                     "--report", str(report))  # fmt: skip
        assert code == 1  # one row rejected, whatever the language
        reports[lang] = report_of(report)
        rejects = (tmp_path / f"{lang}.csv.rejects.csv").read_text(encoding="utf-8-sig")
        assert ("校验位错误" if lang == "zh" else "check character is wrong") in rejects
    zh, en = reports["zh"], reports["en"]
    assert [set(r) for r in zh["rows"]] == [set(r) for r in en["rows"]] and zh["summary"] == en["summary"]
    assert zh["rows"][1]["codes"] == en["rows"][1]["codes"] == ["id.check"]
    assert "身份证号校验位错误，请核对" in zh["rows"][1]["errors"]
    assert "the ID number's check character is wrong" in en["rows"][1]["errors"]
    assert "1 行未受理，原因见" in outputs["zh"] and "行数" in outputs["zh"]
    assert "1 row(s) rejected, with reasons" in outputs["en"]


@pytest.mark.parametrize("columns", [80, 60])
def test_cases_list_never_cuts_a_case_number_or_a_date(home: Path, columns: int) -> None:
    code, _ = invoke("sample")
    assert code == 0
    code, listed = invoke("cases", "list", "--json")
    cases = json.loads(listed)["cases"]
    assert len(cases) > 20
    table = terminal("cases", "list", columns=columns)
    lines = table.splitlines()
    assert max(cell_len(line) for line in lines) <= columns  # the table fits the terminal
    assert "…" not in table
    for case in cases:
        due = case["supplement_due"] if case["state"] == "accepted_tolerated" else case["due_date"]
        [line] = [line for line in lines if case["case_no"] in line]  # whole, on one line
        assert due is None or due in line, (case["case_no"], due, line)
    [caption] = [line for line in lines if "未显示" in line]  # the columns left out are named
    assert "证件号码" in caption
    english = terminal("--lang", "en", "cases", "list", columns=columns)
    assert "narrow terminal, not shown:" in english
