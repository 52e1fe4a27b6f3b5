"""Every case document has an A4 page and a print command (``window-client cases print``).

The pages are read as a browser would get them (the saved HTML file; the PDF that ``lp`` gets is
read in test_pdf_pages.py); printing goes through the system's real ``lp`` (cups-client,
installed by .ci/run) or its absence. No print server runs in the tests, so a sent job is not
exercised: lp's own refusal is, with its message passed on.
"""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.enums import Tolerance
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.cli import app
from window_client.services.printing import find_lp, lp_command
from window_client.services.runtime import Runtime

runner = CliRunner()


def run(*args: str) -> Any:
    # These tests read the English messages (the CLI speaks Chinese unless told otherwise).
    return runner.invoke(app, ["--lang", "en", *args], catch_exceptions=False)


def no_lp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A system without CUPS: nothing called ``lp`` on the PATH."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def tolerated_case(rt: Runtime) -> tuple[str, str]:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (missing.code,)), TODAY)
    assert decision.case_no is not None
    return decision.case_no, missing.name


def test_each_document_of_a_tolerated_case_gets_an_a4_page_with_its_facts(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_no, missing = tolerated_case(rt)
    case = rt.cases.get(case_no, TODAY)
    no_lp(monkeypatch, tmp_path)
    pages = {}
    for kind in ("tolerance_notice", "commitment"):
        page = tmp_path / f"{kind}.html"
        result = run("cases", "print", case_no, "--doc", kind, "--out", str(page))
        assert result.exit_code == 1  # saved, not printed: this system has no lp
        pages[kind] = page.read_text(encoding="utf-8")
    notice, commitment = pages["tolerance_notice"], pages["commitment"]
    for text in (notice, commitment):
        assert "size: A4 portrait" in text and 'class="sheet' in text and "double #000" in text
        assert case_no in text and "王小明" in text and case.item_name in text and missing in text
        assert case.applicant_id_masked in text and case.applicant_id not in text
        assert "申请人留存联" in text and "档案联" in text  # one sheet per copy
    assert "<h1>容缺受理通知书</h1>" in notice and "容缺受理承诺书" not in notice.split("<body>")[1][:40]
    assert "<h1>容缺受理承诺书</h1>" in commitment and "郑重承诺" in commitment
    assert "承诺人（申请人）签字" in commitment and "签署记录：王小明于2026年11月20日" in commitment

    # Without --doc: both documents in one page, in the case's documents folder.
    result = run("cases", "print", case_no)
    default = rt.settings.home / "documents" / f"{case_no}-documents.html"
    both = default.read_text(encoding="utf-8")
    assert both.count('class="sheet') == 4 and "<h1>容缺受理承诺书</h1>" in both
    assert str(default) in result.stderr and "warning: not printed" in result.stderr


def test_receipt_and_one_time_notice_pages(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = tolerable_item(rt)
    accepted = rt.acceptance.accept(request(item), TODAY).case_no or ""
    core = next(m for m in item.materials if m.tolerance is Tolerance.CORE)
    refused = rt.acceptance.accept(request(item, (core.code,)), TODAY).case_no or ""
    no_lp(monkeypatch, tmp_path)
    assert run("cases", "print", accepted, "--out", str(tmp_path / "r.html")).exit_code == 1
    receipt = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h1>受理回执</h1>" in receipt and accepted in receipt and "承诺办结日期" in receipt
    result = run("cases", "print", refused, "--doc", "one_time_notice", "--out", str(tmp_path / "n.html"))
    assert result.exit_code == 1
    notice = (tmp_path / "n.html").read_text(encoding="utf-8")
    assert "<h1>一次性告知书</h1>" in notice and core.name in notice and refused in notice


def test_a_document_the_case_does_not_have_is_a_usage_error(rt: Runtime) -> None:
    item = tolerable_item(rt)
    case_no = rt.acceptance.accept(request(item), TODAY).case_no or ""
    result = run("cases", "print", case_no, "--doc", "commitment")
    assert result.exit_code == 2
    assert "has no 'commitment' document; it has: receipt" in " ".join(result.output.split())
    assert run("cases", "print", "GXZX-20261120-9999", "--doc", "receipt").exit_code == 2


def test_every_text_from_the_store_is_escaped_in_the_page(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row the hall or another station sent is not trusted to be plain text: a name carrying
    markup is printed as text, never run by the browser that prints the page."""
    case_no, _ = tolerated_case(rt)
    hostile = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
    db = sqlite3.connect(rt.store.path)
    with db:
        db.execute(
            "UPDATE cases SET applicant_name = ?, item_name = ? WHERE case_no = ?",
            (hostile, hostile, case_no),
        )
    db.close()
    no_lp(monkeypatch, tmp_path)
    page = tmp_path / "p.html"
    run("cases", "print", case_no, "--out", str(page))
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    assert html.escape(hostile) in text


def test_without_lp_the_clerk_is_told_nothing_printed_and_where_the_page_is(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_no, _ = tolerated_case(rt)
    no_lp(monkeypatch, tmp_path)
    page = tmp_path / "out" / "notice.html"
    result = run("cases", "print", case_no, "--out", str(page))
    assert result.exit_code == 1 and page.exists()
    assert "not printed: this system has no print service (no `lp` command" in result.stderr
    assert f"the page is saved at {page}" in result.stderr


@pytest.mark.skipif(find_lp() is None, reason="CUPS's lp is not installed (.ci/run installs cups-client)")
def test_with_lp_the_job_goes_to_lp_and_its_answer_is_passed_on(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real lp, with no print server reachable (a closed loopback port): its refusal reaches
    the clerk word for word, and the page is kept."""
    monkeypatch.setenv("CUPS_SERVER", "127.0.0.1:9")
    case_no, _ = tolerated_case(rt)
    page = tmp_path / "notice.html"
    result = run("cases", "print", case_no, "--out", str(page), "--printer", "counter-3")
    assert result.exit_code == 1 and page.exists()
    assert "not printed: lp failed: " in result.stderr and "lp: Error - " in result.stderr
    assert f"the page is saved at {page}" in result.stderr


def test_the_lp_command_line() -> None:
    """PDF on standard input, A4, the default destination unless a printer is named."""
    assert lp_command("/usr/bin/lp", "T") == [
        "/usr/bin/lp", "-t", "T", "-o", "media=A4", "-o", "document-format=application/pdf",
    ]  # fmt: skip
    assert lp_command("/usr/bin/lp", "T", "counter-3")[-2:] == ["-d", "counter-3"]


def test_show_documents_text_contract_is_unchanged_and_json_lists_the_commitment(rt: Runtime) -> None:
    case_no, _ = tolerated_case(rt)
    text = run("cases", "show", case_no, "--documents").output
    assert text.index("容缺受理通知书") < text.index("容缺受理承诺书")
    docs = json.loads(run("cases", "show", case_no, "--json").output)["documents"]
    assert [d["kind"] for d in docs] == ["tolerance_notice", "commitment"]
