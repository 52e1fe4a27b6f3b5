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
from tests.functional.test_certificates_cli import approved_case
from tests.functional.test_cli import complete_row, report_of, write
from window_client.cli import app
from window_client.cli.lang import language_from
from window_client.services.runtime import Runtime
from window_client.services.staff import seed_demo_staff

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


# ------------------------------------------------------------------ every line staff read

CLERK = {"WINDOW_CLIENT_USER": "C001", "WINDOW_CLIENT_PASSWORD": "demo-1234"}
SUPERVISOR = {"WINDOW_CLIENT_USER": "S001", "WINDOW_CLIENT_PASSWORD": "demo-5678"}


def both(*args: str, **env: str | None) -> dict[str, tuple[int, str]]:
    """``window-client ARGS`` on the Chinese default and with ``--lang en``."""
    return {"zh": invoke(*args, **env), "en": invoke("--lang", "en", *args, **env)}


def squeezed(text: str) -> str:
    """``text`` without any whitespace: Rich wraps a long Chinese line between any two
    characters, so the tests compare lines with their spaces and breaks taken out."""
    return "".join(text.split())


def test_supervisor_checks_speak_the_chosen_language(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    missing = both("cert", "revoke", "NOPE", "--reason", "有误")
    assert missing["zh"][0] == missing["en"][0] == 2
    assert squeezed("错误：撤销证照须由值班长审批：请将 WINDOW_CLIENT_USER") in squeezed(missing["zh"][1])
    assert "a revocation needs a supervisor" in " ".join(missing["en"][1].split())
    clerk = both("keys", "rotate", **CLERK)
    assert clerk["zh"][0] == clerk["en"][0] == 1
    assert squeezed("值班长核验未通过：该工号不是值班长，不能审批") in squeezed(clerk["zh"][1])
    assert "supervisor check failed: the account is not a supervisor's" in " ".join(clerk["en"][1].split())
    supplement = ("cases", "supplement", "NOPE-1", "--materials", "X", "--nonconforming")
    bare = both(*supplement)
    assert squeezed("补正材料不符合要求将终止办件，须由值班长审批") in squeezed(bare["zh"][1])
    assert "rejecting materials terminates the case and needs a supervisor" in " ".join(bare["en"][1].split())
    refused = both(*supplement, **CLERK)
    assert refused["zh"][0] == refused["en"][0] == 1
    assert squeezed("值班长核验未通过：该工号不是值班长") in squeezed(refused["zh"][1])
    assert "supervisor check failed:" in refused["en"][1]


def test_certificate_and_verify_lines_speak_the_chosen_language(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    rotated = both("keys", "rotate", **SUPERVISOR)
    assert "已启用新的签章密钥" in rotated["zh"][1] and "（值班长S001审批）" in rotated["zh"][1]
    assert "new signing key" in rotated["en"][1] and "approved by S001" in rotated["en"][1]
    case_no = approved_case(rt)
    code, issued = invoke("cert", "issue", case_no, "--json", "--today", TODAY, **SUPERVISOR)
    assert code == 0, issued
    qr = json.loads(issued)["qr"]
    verified = both("verify", qr, "--today", TODAY)
    assert verified["zh"][0] == verified["en"][0] == 0
    zh, en = verified["zh"][1], verified["en"][1]
    assert zh.startswith("有效（valid）：")
    for label in ("证照标识：", "证照类型：", "持证主体：王小明", "有效期：  2026-11-20 至 ", "签章密钥："):
        assert label in zh, (label, zh)
    assert en.startswith("valid (有效): ")
    for label in ("identifier:  ", "type:        ", "holder:      王小明", "valid:       2026-11-20 .. "):
        assert label in en, (label, en)
    assert "sealed by:   " in en and "(station GXZX)" in en
    broken = both("verify", "not a certificate at all", "--today", TODAY)
    assert broken["zh"][0] == broken["en"][0] == 1
    assert broken["zh"][1].startswith("无法识别（malformed）：")
    assert broken["en"][1].startswith("malformed (无法识别): ")
    counts = both("cert", "counts", "--today", TODAY)
    assert "2026-11-20：出证 1 件，领取 0 件，待领取 1 件" in counts["zh"][1]
    assert "2026-11-20: issued 1, handed over 0, waiting 1" in counts["en"][1]
    json_zh, json_en = (
        invoke("verify", qr, "--json", "--today", TODAY),
        invoke("--lang", "en", "verify", qr, "--json", "--today", TODAY),
    )
    assert set(json.loads(json_zh[1])) == set(json.loads(json_en[1]))  # the keys never change


def test_sync_status_labels_speak_the_chosen_language(home: Path) -> None:
    status = both("sync", "status", "--offline")
    assert status["zh"][0] == status["en"][0] == 0
    zh, en = status["zh"][1], status["en"][1]
    for line in ("大厅服务器：http://127.0.0.1:9（未检查）", "站点：    GXZX", "待上传：  0 项操作",
                 "被拒收：  0 项操作未审阅", "上次同步：从未同步"):  # fmt: skip
        assert line in zh, (line, zh)
    for line in ("hall server: http://127.0.0.1:9 (not checked)", "station:     GXZX",
                 "pending:     0 operation(s)", "last sync:   never"):  # fmt: skip
        assert line in en, (line, en)
    as_json = both("sync", "status", "--offline", "--json")
    assert json.loads(as_json["zh"][1]) == json.loads(as_json["en"][1])  # nothing to translate in it


def test_bad_settings_and_a_bad_hall_url_are_told_in_the_chosen_language(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[sync]\nbatch_size = 0\n", encoding="utf-8")
    bad = both("cases", "list")
    assert bad["zh"][0] == bad["en"][0] == 2
    assert squeezed("[sync] batch_size 须为 1 到 2000 之间的整数") in squeezed(bad["zh"][1])
    assert bad["zh"][1].startswith("错误：配置文件") and "Traceback" not in bad["zh"][1]
    assert "[sync] batch_size must be a whole number from 1 to 2000" in " ".join(bad["en"][1].split())
    (home / "config.toml").unlink()
    url = both("sync", "--server", "ftp://hall.example", "status", "--offline")
    assert url["zh"][0] == url["en"][0] == 2
    assert squeezed("大厅服务器地址须以 http:// 或 https:// 开头（当前为'ftp://hall.example'）") in squeezed(
        url["zh"][1]
    )
    assert "the server URL must start with http:// or https://" in url["en"][1]
    provisional = both("calendar", "add", "2031-12-20", "20")
    assert "（暂定：该年度的节假日安排尚未导入）" in provisional["zh"][1]
    assert "(provisional: that year's arrangement is not known)" in provisional["en"][1]


def test_a_home_that_cannot_be_a_folder_is_said_not_raised(tmp_path: Path) -> None:
    """An OS error other than a full disk (here the data directory lies under a file) is a
    clear message and exit 1 in either language, never a traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    home = str(blocker / "home")
    code, shown = invoke("cases", "list", WINDOW_CLIENT_HOME=home)
    flat = shown.replace("\n", "")
    assert code == 1 and "无法读写" in flat and "a-file" in flat and "Traceback" not in flat
    code, shown = invoke("--lang", "en", "cases", "list", WINDOW_CLIENT_HOME=home)
    assert code == 1 and "cannot read or write" in shown
