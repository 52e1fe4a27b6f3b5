"""The certificate page as an A4 PDF for ``lp``, with its QR code drawn as vector squares.

The same page as :func:`window_client.services.certificate_print.render_html`: the title, the
revocation notice where there is one, the label/value lines, the QR code (error correction M,
45 mm with a 2-module quiet zone), the seal and the footer. The HTML page stays what a browser
opens and ``window-client verify`` reads; this PDF is what the printer gets.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepInFrame, Table, TableStyle

from models.certificates import CertificateView
from window_client.services.certificate_print import TEXT, qr_code, rows_of
from window_client.services.pdf_sheet import (
    CONTENT_H,
    CONTENT_W,
    Title,
    build,
    fields_table,
    fonts,
    para,
    style,
)
from window_client.services.printing import PrintResult, send_job

QR_SIZE = 45 * mm
QR_BORDER = 2  # light modules around the symbol, as on the HTML page
_RED = HexColor("#bb0000")


def qr_modules(qr_text: str) -> list[list[bool]]:
    """The printed symbol's modules, row by row from the top (True = dark), without quiet zone."""
    return [[bool(m) for m in row] for row in qr_code(qr_text).matrix]


class QrSymbol(Flowable):  # type: ignore[misc]
    """A QR symbol, centred, ``size`` wide with its quiet zone; dark modules are filled squares
    (one rectangle per horizontal run, so a printer draws them without seams)."""

    def __init__(self, modules: Sequence[Sequence[bool]], size: float = QR_SIZE) -> None:
        super().__init__()
        self.modules, self.size = modules, size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """Full width (centred), ``size`` high."""
        self.width = avail_width
        return avail_width, self.size

    def runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of every horizontal run of dark modules."""
        out = []
        for r, row in enumerate(self.modules):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    out.append((r, start, c - start))
                else:
                    c += 1
        return out

    def draw(self) -> None:
        """The light square, then the dark runs."""
        count = len(self.modules) + 2 * QR_BORDER
        unit = self.size / count
        x0 = (self.width - self.size) / 2
        canvas = self.canv
        canvas.setFillColor(white)
        canvas.rect(x0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(black)
        for r, c, n in self.runs():
            top = self.size - (QR_BORDER + r) * unit
            canvas.rect(x0 + (QR_BORDER + c) * unit, top - unit, n * unit, unit, stroke=0, fill=1)


def _revoked() -> Table:
    notice = para(TEXT["revoked"], style("revoked", 20, 1.3, alignment=TA_CENTER, textColor=_RED))
    box = Table([[notice]])
    lines = [("BOX", (0, 0), (-1, -1), 1 * mm, _RED), ("TOPPADDING", (0, 0), (-1, -1), 2 * mm)]
    box.setStyle(TableStyle([*lines, ("FONTNAME", (0, 0), (-1, -1), fonts().main)]))
    return box


def render_certificate_pdf(view: CertificateView) -> bytes:
    """The certificate's A4 page as PDF: the HTML page's content and its QR code."""
    b = view.body
    story: list[Flowable] = [Title(b.type_name, 28, 6 * mm, 10 * mm)]
    if view.revocation:
        story.append(_revoked())
    story.append(fields_table(rows_of(view)))
    symbol = QrSymbol(qr_modules(view.qr))
    symbol.spaceBefore = 12 * mm
    story.append(symbol)
    story.append(para(TEXT["scan"], style("scan", 10, 1.4, alignment=TA_CENTER, spaceBefore=2 * mm)))
    seal = style("seal", 8, 1.4, textColor=HexColor("#333333"), spaceBefore=8 * mm)
    story.append(para(f"{TEXT['seal']}：{view.seal}", seal))
    footer = TEXT["footer"].format(issuer=b.issuer_name)
    story.append(para(footer, style("footer", 10, 1.4, spaceBefore=6 * mm)))
    # A certificate is one sheet: long names or a revocation notice shrink it a little instead.
    page = KeepInFrame(CONTENT_W, CONTENT_H, story, mode="shrink")
    out = io.BytesIO()
    build(out, [page], f"{b.type_name} {b.identifier}")
    return out.getvalue()


def send_certificate(view: CertificateView, saved: Path, printer: str | None = None) -> PrintResult:
    """Send the certificate's PDF page to the printer (``saved``: where its HTML page is)."""
    title = f"{view.body.type_name} {view.identifier}"
    return send_job(lambda: render_certificate_pdf(view), title, saved, printer)
