"""电子档案 in the clerk's language: every line of ``archive export|verify`` is Chinese unless
``--lang en``; JSON keys and finding kinds never change, only the messages follow the language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.archive.package import MANIFEST, SEAL
from tests.functional import test_archive as base
from tests.functional.test_archive import DAY, cli, db_rows, kinds, said, tampered

# The demo station and its day's package, made once for this module too.
station_home = base.station_home
env = base.env
package = base.package


@pytest.fixture
def chinese(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI with no language chosen anywhere: Chinese, the counter's language."""
    for name in ("WINDOW_CLIENT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return env


def squeezed(text: str) -> str:
    """``text`` without whitespace (Rich wraps stderr, also inside Chinese text)."""
    return "".join(text.split())


def test_export_speaks_chinese_by_default_and_english_with_lang_en(chinese: Path, tmp_path: Path) -> None:
    [(case_no,)] = db_rows(chinese, "SELECT case_no FROM cases WHERE state = 'not_accepted' LIMIT 1")
    zh = cli("archive", "export", case_no, "--out", str(tmp_path / "zh"))
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.startswith(f"已将 1 件办件归档至{tmp_path / 'zh'}：")
    assert "字节，已用密钥GXZX-" in zh.stdout and "（清单 SM3 数字摘要 " in zh.stdout
    en = cli("--lang", "en", "archive", "export", case_no, "--out", str(tmp_path / "en"))
    assert en.exit_code == 0 and en.stdout.startswith(f"archived 1 case(s) into {tmp_path / 'en'}: ")
    # JSON keys are the contract in either language.
    data = json.loads(cli("archive", "export", case_no, "--out", str(tmp_path / "js"), "--json").stdout)
    assert list(data) == ["out", "cases", "files", "size", "manifest_sm3", "key_id", "broken"]
    # Usage errors, an empty day and a used folder: said in the chosen language, same exit codes.
    cases = [
        (
            ("archive", "export", "X", "--day", DAY, "--out", str(tmp_path / "a")),
            2,
            "错误：请给出一个办件编号（CASE_NO）或一个日期（--day YYYY-MM-DD），二者只取其一",
            "error: name one case (CASE_NO) or a day (--day YYYY-MM-DD)",
        ),
        (
            ("archive", "export", "--day", "2020-01-01", "--out", str(tmp_path / "b")),
            1,
            "错误：2020-01-01没有受理任何办件：无可归档",
            "error: no case was accepted on 2020-01-01: nothing to archive",
        ),
        (
            ("archive", "export", case_no, "--out", str(tmp_path / "zh")),
            2,
            f"错误：{tmp_path / 'zh'}不是空文件夹：请选择新的或空的文件夹（不会覆盖已有内容）",
            f"error: {tmp_path / 'zh'} is not empty: choose a new or empty folder (nothing is overwritten)",
        ),
    ]
    for args, code, in_chinese, in_english in cases:
        zh, en = cli(*args), cli("--lang", "en", *args)
        assert (zh.exit_code, en.exit_code) == (code, code)
        assert squeezed(zh.stderr) == squeezed(in_chinese) and said(en) == in_english


def test_verify_of_an_intact_package_in_both_languages(chinese: Path, package: Path) -> None:
    zh = cli("archive", "verify", str(package))
    assert zh.exit_code == 0
    assert zh.stdout.startswith("电子档案完好：") and "数字摘要与电子签章均核验通过（密钥GXZX-" in zh.stdout
    assert "，站点GXZX）" in zh.stdout
    en = cli("--lang", "en", "archive", "verify", str(package))
    assert en.exit_code == 0 and en.stdout.startswith("archive intact: ") and "(GXZX)" in en.stdout


def test_verify_of_a_tampered_package_names_each_finding_in_the_chosen_language(
    chinese: Path, package: Path, tmp_path: Path
) -> None:
    copy = tampered(package, tmp_path)
    first, second = [c["case_no"] for c in json.loads((copy / MANIFEST).read_bytes())["cases"][:2]]
    (copy / first / "case.json").write_bytes(b"{}")
    (copy / first / "notes.txt").write_text("x", encoding="utf-8")
    (copy / second / "audit.json").unlink()
    (copy / SEAL).unlink()
    zh = cli("archive", "verify", str(copy))
    assert zh.exit_code == 1
    assert zh.stdout.splitlines() == [
        f"电子档案不完整：{copy}中发现 4 处问题",
        "  电子签章缺失（seal_missing）：seal.json缺失：档案包未经电子签章",
        f"  新增（added）：{first}/notes.txt为新增文件（不在清单中）",
        f"  被篡改（altered）：{first}/case.json被篡改（SM3 数字摘要不符）",
        f"  缺失（removed）：{second}/audit.json缺失（已被删除）",
    ]
    en = cli("--lang", "en", "archive", "verify", str(copy))
    assert en.exit_code == 1
    assert en.stdout.splitlines() == [
        f"archive NOT intact: 4 problem(s) in {copy}",
        "  seal_missing: seal.json was removed: the package is not sealed",
        f"  added: {first}/notes.txt was added (not in the manifest)",
        f"  altered: {first}/case.json was altered (its SM3 digest differs)",
        f"  removed: {second}/audit.json was removed",
    ]
    # --json: the same keys and kinds in both; only the messages follow the language.
    as_zh = json.loads(cli("archive", "verify", str(copy), "--json").stdout)
    as_en = json.loads(cli("--lang", "en", "archive", "verify", str(copy), "--json").stdout)
    assert (
        kinds(as_zh)
        == kinds(as_en)
        == {
            ("seal_missing", SEAL),
            ("added", f"{first}/notes.txt"),
            ("altered", f"{first}/case.json"),
            ("removed", f"{second}/audit.json"),
        }
    )
    assert as_zh["problems"] == [
        {"kind": "seal_missing", "path": SEAL, "message": "seal.json缺失：档案包未经电子签章"}
    ]
    assert as_en["problems"][0]["message"] == "seal.json was removed: the package is not sealed"
    assert {k: v for k, v in as_zh.items() if k not in ("problems", "cases")} == {
        k: v for k, v in as_en.items() if k not in ("problems", "cases")
    }


def test_not_an_archive_in_both_languages(chinese: Path, package: Path, tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    zh = cli("archive", "verify", str(nowhere))
    assert zh.exit_code == 2 and squeezed(zh.stderr) == squeezed(f"错误：{nowhere}不存在")
    en = cli("--lang", "en", "archive", "verify", str(nowhere))
    assert en.exit_code == 2 and said(en) == f"error: {nowhere} does not exist"
    case_folder = next(p for p in package.iterdir() if p.is_dir())
    one = cli("archive", "verify", str(case_folder))
    assert one.exit_code == 2
    assert squeezed(one.stderr) == squeezed(
        f"错误：{case_folder}不是档案包：其中没有档案包的manifest.json和seal.json"
        f"（它像是档案包{package}中的一件：请核验该文件夹）"
    )
    report = json.loads(cli("archive", "verify", str(nowhere), "--json").stdout)
    assert report == {
        "ok": False,
        "archive": str(nowhere),
        "error": "not_an_archive",
        "message": f"{nowhere}不存在",
    }
    report = json.loads(cli("--lang", "en", "archive", "verify", str(nowhere), "--json").stdout)
    assert report["message"] == f"{nowhere} does not exist"
