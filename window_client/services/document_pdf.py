"""The case documents (回执, 容缺受理通知书, 容缺受理承诺书, 一次性告知书) as an A4 PDF for ``lp``.

The same sheets as :func:`window_client.services.printing.render_documents_html`: one per copy
(申请人留存联, 档案联), each a framed A4 page with the title, the fields, the materials table,
the paragraphs and the signature lines. Every stored text is drawn as text, never as markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.colors import black
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from window_client.services.documents import Document
from window_client.services.pdf_sheet import (
    BODY_PT,
    CONTENT_W,
    SignatureLine,
    Title,
    build,
    fields_table,
    fonts,
    para,
    style,
)

_CELL_PAD_X = 2 * mm


def column_widths(header: Sequence[str], rows: Sequence[Sequence[str]], total: float) -> list[float]:
    """Widths of the materials table's columns: as wide as their longest text where that fits,
    the rest shared in proportion (a long material name wraps, short columns stay whole)."""
    main = fonts().main
    natural = [
        max(pdfmetrics.stringWidth(text, main, BODY_PT) for text in column) + 2 * _CELL_PAD_X + 1
        for column in zip(header, *rows, strict=True)
    ]
    if sum(natural) <= total:
        spare = (total - sum(natural)) / len(natural)
        return [w + spare for w in natural]
    fair = total / len(natural)
    narrow = [w for w in natural if w <= fair]  # these keep their width
    wide = sum(w for w in natural if w > fair)
    rest = total - sum(narrow)
    return [w if w <= fair else rest * w / wide for w in natural]


def _items(doc: Document) -> Table:
    cell = style("cell", leading=1.3)
    rows = [list(doc.table_header), *(list(r) for r in doc.table_rows)]
    widths = column_widths(doc.table_header, doc.table_rows, CONTENT_W)
    table = Table([[para(text, cell) for text in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3 * mm, black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), fonts().main),  # else the cells set Helvetica
                ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD_X),
                ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD_X),
                ("TOPPADDING", (0, 0), (-1, -1), 1.6 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6 * mm),
            ]
        )
    )
    table.spaceBefore = table.spaceAfter = 5 * mm
    return table


def _sheet(doc: Document, copy: str) -> list[Flowable]:
    story: list[Flowable] = [Title(doc.title, 22, 4 * mm, 2 * mm if copy else 6 * mm)]
    if copy:
        story.append(para(f"（{copy}）", style("copy", alignment=TA_CENTER, spaceAfter=6 * mm)))
    # Lines a little closer than the HTML page's 2.2 mm, so a signed 承诺书 stays on one sheet.
    story.append(fields_table(doc.fields, pad=1.6 * mm))
    if doc.table_rows:
        story.append(_items(doc))
    # 1.5 mm between paragraphs: CSS collapses the margins of neighbours, reportlab adds them up.
    text = style("p", leading=1.7, firstLineIndent=2 * BODY_PT, spaceBefore=1.5 * mm)
    story += [para(p, text) for p in doc.paragraphs]
    if doc.signatures:
        story.append(Spacer(CONTENT_W, 6 * mm))  # 12 mm above the first, with its own 6 mm
        story += [SignatureLine(s) for s in doc.signatures]
    return story


def render_documents_pdf(docs: Sequence[Document]) -> bytes:
    """One PDF with an A4 sheet per document copy, in the HTML page's look."""
    if not docs:
        raise ValueError("no document to render")
    story: list[Flowable] = []
    for doc in docs:
        for copy in doc.copies or ("",):
            if story:
                story.append(PageBreak())
            story += _sheet(doc, copy)
    titles = "、".join(dict.fromkeys(doc.title for doc in docs))
    out = io.BytesIO()
    build(out, story, f"{docs[0].case_no} {titles}")
    return out.getvalue()
