"""The printed A4 sheet as PDF: fonts, the double frame and the few pieces every page is made of.

CUPS prints PDF (it has no HTML renderer), so the pages that ``lp`` receives are drawn here with
reportlab in the look of the HTML page (:data:`window_client.services.printing.SHEET_CSS`): A4,
18 mm margins, a 174 x 255 mm sheet in a 1.2 mm double frame, a Song (serif) face.

Fonts: a PDF prints the same everywhere only when its fonts are embedded. reportlab's built-in
CJK font (STSong-Light) is not: the printer's renderer substitutes its own, and on a machine
without CJK fonts Ghostscript drops the Latin digits (the case number) and poppler draws boxes.
So a CJK TrueType font is embedded (subset: only the glyphs used) where one is found — AR PL
SungtiL GB first (Debian's fonts-arphic-gbsn00lp, installed by scripts/setup-env and .ci/run),
or the file named by ``WINDOW_CLIENT_PDF_FONT`` — and a character it lacks (a rare name
character outside GB2312) falls back to STSong-Light, ASCII to Times-Roman (a base-14 font every
renderer has), run by run. Without any such file the page still prints through those two.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import black
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle

FONT_ENV = "WINDOW_CLIENT_PDF_FONT"
# CJK TrueType fonts to embed, best first: Song faces (the HTML page's serif look), then the
# common sans faces a desktop has. TrueType outlines only (reportlab cannot embed CFF/OTF).
FONT_FILES = (
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",  # AR PL SungtiL GB (simplified Song)
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # AR PL UMing
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
EMBEDDED = "WindowClientCJK"
CID_FONT = "STSong-Light"
LATIN_FONT = "Times-Roman"

PAGE_W, PAGE_H = A4
SHEET_W, SHEET_H = 174 * mm, 255 * mm
SHEET_X, SHEET_Y = (PAGE_W - SHEET_W) / 2, PAGE_H - 18 * mm - 255 * mm
BORDER = 1.2 * mm  # "double": two 0.4 mm lines with a 0.4 mm gap
PAD_X, PAD_Y = 12 * mm, 10 * mm
CONTENT_W = SHEET_W - 2 * (BORDER + PAD_X)
CONTENT_H = SHEET_H - 2 * (BORDER + PAD_Y)
BODY_PT = 12


@dataclass(frozen=True)
class PdfFonts:
    """The fonts a page is drawn with: the embedded CJK font (when found) and what it covers."""

    embedded: str | None  # the file embedded, or None: STSong-Light and Times-Roman only
    covered: frozenset[int]  # the code points the embedded font has a glyph for

    @property
    def main(self) -> str:
        """The font name paragraphs start in."""
        return EMBEDDED if self.embedded else CID_FONT

    def font_for(self, ch: str) -> str:
        """The font that draws ``ch``: the embedded one where it has the glyph."""
        if ord(ch) in self.covered:
            return EMBEDDED
        return LATIN_FONT if ch.isascii() else CID_FONT

    def runs(self, text: str) -> list[tuple[str, str]]:
        """``text`` cut into (font, text) runs, each drawn in one font."""
        out: list[tuple[str, str]] = []
        for ch in text:
            font = self.font_for(ch)
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + ch)
            else:
                out.append((font, ch))
        return out

    def markup(self, text: str) -> str:
        """``text`` as reportlab paragraph markup: escaped (stored text is never markup), with a
        ``<font>`` tag around each run the main font does not draw."""
        main = self.main
        return "".join(
            escape(run) if font == main else f'<font face="{font}">{escape(run)}</font>'
            for font, run in self.runs(text)
        )


def font_candidates() -> list[Path]:
    """The CJK font files tried, in order (``WINDOW_CLIENT_PDF_FONT`` first when set)."""
    named = os.environ.get(FONT_ENV, "").strip()
    return [Path(p) for p in ([named] if named else []) + list(FONT_FILES)]


@functools.cache
def fonts() -> PdfFonts:
    """Register the page fonts once a process (the embedded one is read from its file here)."""
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    for path in font_candidates():
        if not path.is_file():
            continue
        try:
            font = TTFont(EMBEDDED, str(path), subfontIndex=0)
        except (TTFError, OSError):  # not a usable TrueType font (e.g. CFF outlines): try the next
            continue
        pdfmetrics.registerFont(font)
        return PdfFonts(str(path), frozenset(font.face.charToGlyph))
    return PdfFonts(None, frozenset())


def text_width(text: str, size: float, char_space: float = 0.0) -> float:
    """The drawn width of ``text`` at ``size`` points, run by run."""
    drawn: float = sum(pdfmetrics.stringWidth(run, font, size) for font, run in fonts().runs(text))
    return drawn + char_space * len(text)


def draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, char_space: float = 0.0) -> float:
    """Draw ``text`` from ``x`` on the baseline ``y``, run by run; the x where it ends."""
    for font, run in fonts().runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, run, charSpace=char_space)
        x += pdfmetrics.stringWidth(run, font, size) + char_space * len(run)
    return x


def style(name: str, size: float = BODY_PT, leading: float = 1.5, **extra: Any) -> ParagraphStyle:
    """A paragraph style in the main font; ``leading`` is a multiple of ``size``; CJK line
    breaking between any two characters (the HTML page's ``word-break: break-all``)."""
    return ParagraphStyle(
        name, fontName=fonts().main, fontSize=size, leading=size * leading, wordWrap="CJK", **extra
    )


def para(text: str, st: ParagraphStyle) -> Paragraph:
    """A paragraph of plain (stored, untrusted) text."""
    return Paragraph(fonts().markup(text), st)


class Title(Flowable):  # type: ignore[misc]
    """A centred heading with letter spacing (``h1`` of the HTML page: 0.4 em)."""

    def __init__(self, text: str, size: float, before: float, after: float) -> None:
        super().__init__()
        self.text, self.size, self.before, self.after = text, size, before, after
        self.spaceBefore, self.spaceAfter = before, after

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """Full width, one line."""
        self.width = avail_width
        return avail_width, self.size * 1.2

    def draw(self) -> None:
        """Centred: the trailing letter space is left out of the centring."""
        space = 0.4 * self.size
        width = text_width(self.text, self.size, space) - space
        draw_text(self.canv, (self.width - width) / 2, self.size * 0.25, self.text, self.size, space)


class Spread(Flowable):  # type: ignore[misc]
    """A label spread over its cell (``text-align-last: justify``): 姓 名 over the full width."""

    def __init__(self, text: str, size: float = BODY_PT, leading: float = 1.5) -> None:
        super().__init__()
        self.text, self.size, self.leading = text, size, leading

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """The cell's width, one line."""
        self.width = avail_width
        return avail_width, self.size * self.leading

    def draw(self) -> None:
        """Characters at equal gaps from edge to edge (one character stays at the left)."""
        y = self.size * (self.leading - 1)  # the baseline of a paragraph's first line beside it
        gaps = len(self.text) - 1
        natural = text_width(self.text, self.size)
        if gaps <= 0 or natural >= self.width:
            draw_text(self.canv, 0, y, self.text, self.size)
            return
        draw_text(self.canv, 0, y, self.text, self.size, (self.width - natural) / gaps)


class SignatureLine(Flowable):  # type: ignore[misc]
    """``签字：________　　年　　月　　日`` — a 50 mm line to sign on, then the date to fill in."""

    def __init__(self, label: str, size: float = BODY_PT) -> None:
        super().__init__()
        self.label, self.size = label, size
        self.spaceBefore = 6 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """One line."""
        return avail_width, self.size * 1.25

    def draw(self) -> None:
        """Label, the line, the date."""
        y = self.size * 0.25
        x = draw_text(self.canv, 0, y, f"{self.label}：", self.size)
        self.canv.setLineWidth(0.3 * mm)
        self.canv.line(x, y - 1.2, x + 50 * mm, y - 1.2)
        draw_text(self.canv, x + 50 * mm, y, "　　年　　月　　日", self.size)


def fields_table(rows: Sequence[tuple[str, str]], size: float = BODY_PT, pad: float = 2.2 * mm) -> Table:
    """Label/value lines (the HTML page's ``th``/``td``): the label spread over 38 mm less 4 mm,
    the value wrapped in the rest; a browser's "normal" line height (1.25), ``pad`` above and
    below each line."""
    value_style = style("field", size, 1.25)
    cells = [[Spread(label, size, 1.25), para(value, value_style)] for label, value in rows]
    table = Table(cells, colWidths=[38 * mm, CONTENT_W - 38 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), fonts().main),  # else the cells set Helvetica
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, -1), 4 * mm),
                ("RIGHTPADDING", (1, 0), (1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), pad),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
            ]
        )
    )
    return table


def draw_frame(canvas: Canvas, _doc: Any) -> None:
    """The sheet's double frame on every page."""
    canvas.saveState()
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.4 * mm)
    for inset in (0.2 * mm, 1.0 * mm):
        canvas.rect(SHEET_X + inset, SHEET_Y + inset, SHEET_W - 2 * inset, SHEET_H - 2 * inset)
    canvas.restoreState()


def build(out: Any, story: Sequence[Flowable], title: str) -> None:
    """Lay ``story`` out on framed A4 sheets (more sheets when it runs long) and write the PDF."""
    frame = Frame(
        SHEET_X + BORDER + PAD_X,
        SHEET_Y + BORDER + PAD_Y,
        CONTENT_W,
        CONTENT_H,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        title=title,
        author="window-client",
        creator="window-client",
        initialFontName=fonts().main,  # no unused Helvetica left for the printer to find
        pageTemplates=[PageTemplate("sheet", frames=[frame], onPage=draw_frame)],
    )
    doc.build(list(story))
