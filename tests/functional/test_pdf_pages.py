"""What the printer gets: every case document and the certificate page as an A4 PDF.

The PDFs are read with poppler's own tools (pdfinfo, pdftotext, pdffonts, pdftoppm; .ci/run
installs poppler-utils, the tests that need them are skipped where they are missing) and the
certificate's QR code is scanned by zbar from the rasterised page, as a phone would read it.
The job itself goes through the system's real ``lp`` or its absence (see test_printing.py).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import segno
from typer.testing import CliRunner

from models.certificates import CertificateView
from tests.conftest import TODAY
from tests.functional.qr_scan import zbarimg
from tests.functional.test_printing import no_lp, tolerated_case
from tests.functional.test_tui_certificates import approved_case, supervisor
from window_client.cli import app
from window_client.services.certificate_pdf import (
    QrSymbol,
    qr_modules,
    render_certificate_pdf,
    send_certificate,
)
from window_client.services.document_pdf import render_documents_pdf
from window_client.services.documents import Document, documents_for
from window_client.services.pdf_sheet import FONT_ENV, FONT_FILES, PdfFonts, font_candidates, fonts
from window_client.services.printing import find_lp
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id

RNG = random.Random(2611)
POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (.ci/run installs it)")


def tool(name: str, *args: str) -> str:
    """A poppler tool's output for ``args``."""
    done = subprocess.run([name, *args], capture_output=True, timeout=60, check=True)
    return done.stdout.decode("utf-8")


def pdf_facts(pdf: bytes, folder: Path) -> tuple[str, str]:
    """(pdfinfo's report, the text as pdftotext extracts it) of ``pdf``."""
    path = folder / "page.pdf"
    path.write_bytes(pdf)
    return tool("pdfinfo", str(path)), "".join(tool("pdftotext", str(path), "-").split())


def case_documents(rt: Runtime, case_no: str) -> list[Document]:
    detail = rt.cases.detail(case_no, TODAY)
    return documents_for(detail.case, detail.materials, detail.case.station)


def test_a_pdf_is_an_a4_pdf_with_one_page_per_copy(rt: Runtime) -> None:
    """No tool needed: the file's own header, page objects and media box."""
    case_no, _ = tolerated_case(rt)
    pdf = render_documents_pdf(case_documents(rt, case_no))
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page\n") == 4  # 通知书 and 承诺书, each 申请人留存联 and 档案联
    assert pdf.count(b"/MediaBox [ 0 0 595.2756 841.8898 ]") == 4  # 210 x 297 mm


@needs_poppler
def test_each_document_pdf_reads_back_with_its_case_headings_and_facts(rt: Runtime, tmp_path: Path) -> None:
    case_no, missing = tolerated_case(rt)
    docs = case_documents(rt, case_no)
    case = rt.cases.get(case_no, TODAY)
    info, text = pdf_facts(render_documents_pdf(docs), tmp_path)
    assert "(A4)" in info and "Pages:           4" in info
    assert f"Title:           {case_no} 容缺受理通知书、容缺受理承诺书" in info
    assert text.count(case_no) >= 4 and text.count("容缺受理通知书") >= 2 and "容缺受理承诺书" in text
    assert "申请人留存联" in text and "档案联" in text and "王小明" in text and missing in text
    assert "郑重承诺" in text and case.applicant_id_masked in text and case.applicant_id not in text

    _, commitment = pdf_facts(render_documents_pdf([d for d in docs if d.kind == "commitment"]), tmp_path)
    assert "容缺受理承诺书" in commitment and "容缺受理通知书" not in commitment


@needs_poppler
def test_stored_text_is_drawn_as_text_never_as_markup(rt: Runtime, tmp_path: Path) -> None:
    """reportlab reads paragraph markup: a stored name carrying tags prints as typed."""
    case_no, _ = tolerated_case(rt)
    hostile = '<font size="80">X</font>&<b>y</b>'
    docs = [d for d in case_documents(rt, case_no) if d.kind == "commitment"]
    doc = docs[0]
    changed = Document(**{**doc.to_dict(), "fields": tuple((k, hostile) for k, _ in doc.fields)})
    _, text = pdf_facts(render_documents_pdf([changed]), tmp_path)
    assert "".join(hostile.split()) in text


@needs_poppler
@pytest.mark.skipif(fonts().embedded is None, reason="no CJK TrueType font (.ci/run installs one)")
def test_the_cjk_font_travels_inside_the_pdf(rt: Runtime, tmp_path: Path) -> None:
    """The printer needs no Chinese font of its own: the one used is embedded (as a subset)."""
    case_no, _ = tolerated_case(rt)
    path = tmp_path / "p.pdf"
    path.write_bytes(render_documents_pdf(case_documents(rt, case_no)))
    rows = [line.split() for line in tool("pdffonts", str(path)).splitlines()[2:]]
    assert rows and all(row[-5:-3] == ["yes", "yes"] for row in rows)  # emb, sub: every font


def test_without_an_embedded_font_latin_and_chinese_take_the_renderers_own_fonts() -> None:
    """No CJK TrueType file: ASCII in Times-Roman (every renderer has it; a substituted CJK font
    may lack the digits of a case number), the rest in STSong-Light; stored text escaped."""
    bare = PdfFonts(None, frozenset())
    assert bare.runs("GXZX-0001 王小明<b>") == [
        ("Times-Roman", "GXZX-0001 "), ("STSong-Light", "王小明"), ("Times-Roman", "<b>"),
    ]  # fmt: skip
    assert bare.markup("王&<b>") == '王<font face="Times-Roman">&amp;&lt;b&gt;</font>'
    # With one: what it covers is drawn in it, a character it lacks falls back run by run.
    partial = PdfFonts("x.ttf", frozenset(map(ord, "王小明GX")))
    assert partial.runs("王䶮GX1") == [
        ("WindowClientCJK", "王"), ("STSong-Light", "䶮"), ("WindowClientCJK", "GX"), ("Times-Roman", "1"),
    ]  # fmt: skip


def test_an_office_names_its_own_font_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FONT_ENV, "/srv/fonts/simsun.ttc")
    assert font_candidates() == [Path("/srv/fonts/simsun.ttc"), *map(Path, FONT_FILES)]
    monkeypatch.delenv(FONT_ENV)
    assert font_candidates() == list(map(Path, FONT_FILES))


def issued_view(rt: Runtime) -> CertificateView:
    case_no = approved_case(rt, person_id(RNG))
    (view,) = rt.certificates.issue([case_no], TODAY, approver=supervisor(rt))
    return view


def dark_runs(modules: Sequence[Sequence[bool]]) -> set[tuple[int, int]]:
    """The dark modules, as (row, column), of the runs a QrSymbol draws."""
    symbol = QrSymbol(modules)
    return {(r, c + i) for r, c, n in symbol.runs() for i in range(n)}


def test_the_printed_qr_draws_exactly_segnos_symbol(rt: Runtime) -> None:
    view = issued_view(rt)
    matrix = segno.make(view.qr, error="m", boost_error=False).matrix
    expected = {(r, c) for r, row in enumerate(matrix) for c, m in enumerate(row) if m}
    assert qr_modules(view.qr) == [[bool(m) for m in row] for row in matrix]
    assert dark_runs(qr_modules(view.qr)) == expected


@needs_poppler
@pytest.mark.skipif(zbarimg() is None, reason="zbarimg is not installed (.ci/run installs zbar-tools)")
def test_the_certificate_pdf_is_a4_with_its_facts_and_its_qr_scans(rt: Runtime, tmp_path: Path) -> None:
    view = issued_view(rt)
    pdf = render_certificate_pdf(view)
    info, text = pdf_facts(pdf, tmp_path)
    body = view.body
    assert "(A4)" in info and "Pages:           1" in info
    assert body.type_name in text and body.identifier in text and "王小明" in text
    assert "扫描二维码核验真伪" in text and "电子签章" in text
    tool("pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "page.pdf"), str(tmp_path / "page"))
    scan = [zbarimg() or "", "--raw", "-q", "-Sqrcode.enable", str(tmp_path / "page.png")]
    done = subprocess.run(scan, capture_output=True, timeout=60, check=False)
    assert done.stdout.decode("utf-8").strip() == view.qr


@needs_poppler
def test_a_revoked_certificate_prints_saying_so(rt: Runtime, tmp_path: Path) -> None:
    view = issued_view(rt)
    revoked = rt.certificates.revoke(view.identifier, "证照信息有误", supervisor(rt))
    info, text = pdf_facts(render_certificate_pdf(revoked), tmp_path)
    assert "Pages:           1" in info and "本证照已撤销" in text and view.identifier in text
    assert "本证照已撤销" not in pdf_facts(render_certificate_pdf(view), tmp_path)[1]


def test_a_pdf_out_file_saves_the_pdf_itself(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cases print --out x.pdf`` keeps the PDF (for a machine without CUPS, to print elsewhere)."""
    case_no, _ = tolerated_case(rt)
    no_lp(monkeypatch, tmp_path)
    out = tmp_path / "docs" / "x.pdf"
    result = CliRunner().invoke(app, ["cases", "print", case_no, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 1 and f"打印页已保存：{out}" in result.stderr and "未打印" in result.stderr
    assert out.read_bytes().startswith(b"%PDF-") and out.read_bytes().count(b"/Type /Page\n") == 4


def test_certificate_without_lp_says_so_with_the_saved_page(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = issued_view(rt)
    no_lp(monkeypatch, tmp_path)
    result = send_certificate(view, tmp_path / "证照.html")
    assert not result.sent and result.problem == "no_lp"
    assert "本机没有打印服务" in result.zh() and str(tmp_path / "证照.html") in result.zh()


@pytest.mark.skipif(find_lp() is None, reason="CUPS's lp is not installed (.ci/run installs cups-client)")
def test_certificate_pdf_goes_to_the_real_lp(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real lp takes the PDF on standard input; with no print server reachable (a closed
    loopback port) its refusal reaches the clerk word for word."""
    monkeypatch.setenv("CUPS_SERVER", "127.0.0.1:9")
    view = issued_view(rt)
    result = send_certificate(view, tmp_path / "证照.html", printer="counter-3")
    assert not result.sent and result.problem == "lp_failed" and "lp: Error - " in result.detail
    assert result.zh().startswith("打印失败：") and result.detail in result.zh()
