"""Printing at the counter and the certificate QR on screen, driven for real (run_test + Pilot).

The QR is scanned from what the dialog draws: the cells the widget renders are turned back into
modules and read by zbar (.ci/run installs zbar-tools; the scan is skipped where it is missing).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import DataTable, Label, Static

from screens.certificate import QrDialog
from screens.dialogs import DocumentDialog
from screens.find import CaseDetailScreen
from tests.conftest import TODAY
from tests.functional.qr_scan import scan, zbarimg
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.functional.test_tui_certificates import approved_case, open_certificates, supervisor
from tests.functional.test_tui_sync import until
from tests.functional.tui_helpers import SIZE, make_app, sign_in
from window_client.app import WindowClientApp
from window_client.services.certificate_print import qr_terminal
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id

RNG = random.Random(4711)


def drawn(app: WindowClientApp) -> str:
    """The QR drawing as the dialog's widget renders it, cell by cell."""
    widget = app.screen.query_one("#qr-drawing", Static)
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def issued(rt: Runtime) -> tuple[WindowClientApp, str]:
    """A certificate waiting for 领取, and the App to show it; the App and the QR text."""
    case_no = approved_case(rt, person_id(RNG))
    (view,) = rt.certificates.issue([case_no], TODAY, approver=supervisor(rt))
    return make_app(rt), view.qr


@pytest.mark.skipif(zbarimg() is None, reason="zbarimg is not installed (.ci/run installs zbar-tools)")
async def test_the_screen_qr_scans_to_the_certificate_text(rt: Runtime, tmp_path: Path) -> None:
    app, qr = issued(rt)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_certificates(pilot, app)
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, QrDialog)
        drawing = drawn(app)
    assert set(drawing) <= set("▀▄█ \n")
    assert scan(drawing, tmp_path) == qr
    # The drawing is the light modules: inverted, the same cells give no code at all.
    inverted = drawing.translate(str.maketrans("▀▄█ ", "▄▀ █"))
    assert scan(inverted, tmp_path) == ""


async def test_the_qr_dialog_shows_the_whole_code_at_80x24(rt: Runtime) -> None:
    """Half blocks, error correction L: a ZZ2 certificate is a version 5 symbol (37 modules),
    with the standard 4-module quiet zone 45 x 45 modules, 45 columns by 23 rows. The dialog
    gives the code every row but the keys', so 80x24 shows it whole without scrolling."""
    app, qr = issued(rt)
    drawing_text = qr_terminal(qr)
    rows = len(drawing_text.splitlines())
    assert rows == 23 and {len(line) for line in drawing_text.splitlines()} == {45}
    lines = drawing_text.splitlines()
    assert lines[0] == lines[1] == "█" * 45  # the quiet zone: 4 light module rows on top
    assert all(line.startswith("██") and line.endswith("██") for line in lines)  # 4 at each side
    async with app.run_test(size=(80, 24)) as pilot:
        await open_certificates(pilot, app)
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, QrDialog)
        scroll = app.screen.query_one("#qr-scroll", VerticalScroll)
        drawing = app.screen.query_one("#qr-drawing", Static)
        assert scroll.max_scroll_y == 0 and scroll.max_scroll_x == 0
        assert scroll.region.contains_region(drawing.region)
        assert app.screen.region.contains_region(drawing.region) and drawing.region.height == rows
        assert drawing.region.width == 45
        assert drawn(app) == drawing_text.rstrip("\n")  # every module on screen
        details = str(app.screen.query_one("#qr-details", Static).render())
        assert "持证主体" in details and "王小明" in details


async def test_documents_dialog_prints_or_says_why_not_and_saves_the_page(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = tolerable_item(rt)
    missing = next(m.code for m in item.materials if m.tolerance.value == "tolerable")
    case_no = rt.acceptance.accept(request(item, (missing,)), TODAY).case_no or ""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # a counter PC without CUPS
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        app.push_screen(CaseDetailScreen(case_no))
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert [d.title for d in app.screen.documents] == ["容缺受理通知书", "容缺受理承诺书"]
        await pilot.press("f9")
        label = app.screen.query_one("#document-status", Label)
        await until(pilot, lambda: "打印页" in str(label.render()), "the print outcome")
        status = str(label.render())
        page = rt.settings.home / "documents" / f"{case_no}-documents.html"
        assert "本机没有打印服务" in status and "未打印" in status
        assert str(page) in "".join(status.split())  # the path, whatever the wrapping
        assert "<h1>容缺受理承诺书</h1>" in page.read_text(encoding="utf-8")
        page.unlink()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "打印页（A4）已保存" in str(app.screen.query_one("#document-status", Label).render())
        assert page.exists()


async def test_certificate_f8_saves_the_page_and_says_why_nothing_printed(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F8 打印 on the waiting queue: the HTML page is saved at once, the PDF goes to lp off the UI
    thread — on a counter PC without CUPS the clerk is told so, with the page's path."""
    app, _ = issued(rt)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f8")

        def told() -> list[str]:
            return [n.message for n in app._notifications if "本机没有打印服务" in n.message]

        await until(pilot, lambda: bool(told()), "the print outcome")
    (page,) = (rt.settings.home / "documents").glob("证照-*.html")
    assert "size: A4" in page.read_text(encoding="utf-8")
    assert str(page) in told()[0] and "未打印" in told()[0]
