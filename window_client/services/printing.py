"""Printing: the A4 page of every case document, and handing a job to the system's printer.

The page is HTML in the certificate's look (:data:`SHEET_CSS`, shared with
:mod:`window_client.services.certificate_print`): a browser prints it on A4 with the office's own
CJK fonts. Every text the user typed (names, reasons) is escaped.

The print command is CUPS's ``lp`` where the system has it. CUPS has no HTML renderer (given a
page it prints the markup), so ``lp`` receives the same sheets as a PDF on standard input
(:mod:`window_client.services.document_pdf`, drawn with reportlab, fonts embedded) while the HTML
page is saved for a browser (or the PDF itself, for a ``.pdf`` path). Where there is no ``lp``
nothing is printed — and no PDF is drawn — and the result says so, with the saved page's path.
The printer is CUPS's default destination unless one is named.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from window_client.services.documents import Document

FONTS = '"Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "STSong", "SimSun", serif'
# The sheet every printed page shares (certificate and documents): A4, serif CJK, a double frame.
SHEET_CSS = f"""@page {{ size: A4 portrait; margin: 18mm; }}
html, body {{ margin: 0; padding: 0; background: #fff; color: #000; }}
body {{ font-family: {FONTS}; font-size: 12pt; }}
.sheet {{ width: 174mm; min-height: 255mm; margin: 0 auto; border: 1.2mm double #000;
  padding: 10mm 12mm; box-sizing: border-box; page-break-inside: avoid; }}
h1 {{ text-align: center; font-size: 28pt; letter-spacing: 0.4em; margin: 6mm 0 10mm; }}
th {{ width: 38mm; text-align: justify; text-align-last: justify; padding: 2.2mm 4mm 2.2mm 0;
  vertical-align: top; font-weight: normal; }}
td {{ padding: 2.2mm 0; word-break: break-all; }}
@media print {{ .sheet {{ margin: 0; }} }}"""

_DOCUMENT_CSS = """h1 { font-size: 22pt; margin: 4mm 0 2mm; }
.copy { text-align: center; margin: 0 0 6mm; }
table { width: 100%; border-collapse: collapse; }
table.items { margin: 5mm 0; }
table.items th, table.items td { border: 0.3mm solid #000; padding: 1.6mm 2mm; width: auto;
  text-align: left; text-align-last: auto; }
p { line-height: 1.7; margin: 1.5mm 0; text-indent: 2em; }
.signatures { margin-top: 12mm; }
.signatures p { text-indent: 0; margin: 6mm 0; }
.line { display: inline-block; width: 50mm; border-bottom: 0.3mm solid #000; }
.next { page-break-after: always; break-after: page; }"""

LP_TIMEOUT_S = 30


def _sheet(doc: Document, copy: str, last: bool) -> str:
    e = html.escape
    fields = "\n".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in doc.fields)
    items = ""
    if doc.table_rows:
        head = "".join(f"<th>{e(h)}</th>" for h in doc.table_header)
        cells = ("".join(f"<td>{e(c)}</td>" for c in row) for row in doc.table_rows)
        body = "\n".join(f"<tr>{row}</tr>" for row in cells)
        items = f'<table class="items">\n<tr>{head}</tr>\n{body}\n</table>'
    paragraphs = "\n".join(f"<p>{e(p)}</p>" for p in doc.paragraphs)
    signatures = "\n".join(
        f'<p>{e(s)}：<span class="line"></span>　　年　　月　　日</p>' for s in doc.signatures
    )
    copy_line = f'<p class="copy">（{e(copy)}）</p>' if copy else ""
    return f"""<div class="sheet{"" if last else " next"}" data-kind="{e(doc.kind)}">
<h1>{e(doc.title)}</h1>
{copy_line}
<table class="fields">
{fields}
</table>
{items}
{paragraphs}
<div class="signatures">
{signatures}
</div>
</div>"""


def render_documents_html(docs: Sequence[Document]) -> str:
    """One self-contained HTML file with an A4 sheet per document copy, in the certificate's look."""
    if not docs:
        raise ValueError("no document to render")
    sheets = [(doc, copy) for doc in docs for copy in (doc.copies or ("",))]
    body = "\n".join(_sheet(doc, copy, i == len(sheets) - 1) for i, (doc, copy) in enumerate(sheets))
    e = html.escape
    titles = "、".join(dict.fromkeys(doc.title for doc in docs))
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="case-no" content="{e(docs[0].case_no)}">
<title>{e(docs[0].case_no)} {e(titles)}</title>
<style>
{SHEET_CSS}
{_DOCUMENT_CSS}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def page_name(docs: Sequence[Document]) -> str:
    """The default file name of the documents' page: case number and kind (``…-documents`` for several)."""
    kind = docs[0].kind if len(docs) == 1 else "documents"
    return f"{docs[0].case_no}-{kind}.html"


def is_pdf(path: Path) -> bool:
    """Whether ``path`` names a PDF (the page is then saved as PDF rather than HTML)."""
    return path.suffix.lower() == ".pdf"


def save_page(docs: Sequence[Document], path: Path) -> Path:
    """Write the documents' A4 page to ``path`` (folders made as needed): HTML, or the PDF for a
    ``.pdf`` path; ``OSError`` on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_pdf(path):
        from window_client.services.document_pdf import render_documents_pdf  # reportlab: on use

        path.write_bytes(render_documents_pdf(docs))
    else:
        path.write_text(render_documents_html(docs), encoding="utf-8")
    return path


@dataclass(frozen=True)
class PrintResult:
    """What became of a print request: the page always saved, the job sent or why not."""

    saved: Path
    sent: bool
    job: str = ""  # what lp answered ("request id is …")
    problem: str = ""  # "" | "no_lp" | "lp_failed"
    detail: str = ""  # lp's own message when it failed

    def zh(self) -> str:
        """The outcome for the counter, in Chinese."""
        if self.sent:
            return f"已送打印机（{self.job or 'lp'}）；打印页已保存：{self.saved}"
        if self.problem == "no_lp":
            return (
                f"本机没有打印服务（未安装 CUPS，找不到 lp 命令），未打印。"
                f"打印页已保存：{self.saved}，可用浏览器打开后按 A4 打印。"
            )
        return f"打印失败：{self.detail}。打印页已保存：{self.saved}，可用浏览器打开后按 A4 打印。"

    def en(self) -> str:
        """The outcome for the CLI, in English."""
        if self.sent:
            return f"sent to the printer ({self.job or 'lp'}); the page is saved at {self.saved}"
        if self.problem == "no_lp":
            return (
                "not printed: this system has no print service (no `lp` command: CUPS is not installed);"
                f" the page is saved at {self.saved}: open it in a browser and print it on A4"
            )
        return (
            f"not printed: lp failed: {self.detail}; the page is saved at {self.saved}:"
            " open it in a browser and print it on A4"
        )


def find_lp() -> str | None:
    """The path of CUPS's ``lp`` command, or ``None`` where the system has no CUPS client."""
    return shutil.which("lp")


def lp_command(lp: str, title: str, printer: str | None = None) -> list[str]:
    """The ``lp`` command line that prints the PDF on standard input on A4 (default destination
    unless ``printer`` is given)."""
    command = [lp, "-t", title, "-o", "media=A4", "-o", "document-format=application/pdf"]
    if printer:
        command += ["-d", printer]
    return command  # no file operand: lp reads the job from standard input


def send_job(render: Callable[[], bytes], title: str, saved: Path, printer: str | None = None) -> PrintResult:
    """Hand the PDF that ``render`` draws to ``lp`` (drawn only where there is an ``lp``); the
    result says what happened (``saved`` is the saved page's path)."""
    lp = find_lp()
    if lp is None:
        return PrintResult(saved, sent=False, problem="no_lp")
    try:
        done = subprocess.run(
            lp_command(lp, title, printer),
            input=render(),
            capture_output=True,
            timeout=LP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PrintResult(saved, sent=False, problem="lp_failed", detail=str(exc))
    answer = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().rstrip("。.")
        detail = said or answer or f"exit {done.returncode}"
        return PrintResult(saved, sent=False, problem="lp_failed", detail=detail)
    return PrintResult(saved, sent=True, job=answer)


def print_documents(
    docs: Sequence[Document], folder: Path, printer: str | None = None, path: Path | None = None
) -> PrintResult:
    """Save the documents' A4 page (in ``folder`` or at ``path``) and send them to the printer.

    ``OSError`` when the page cannot be saved; a printer problem is in the result instead."""
    saved = save_page(docs, path or folder / page_name(docs))
    title = f"{docs[0].case_no} {docs[0].title}"
    if is_pdf(saved):
        return send_job(saved.read_bytes, title, saved, printer)

    def render() -> bytes:
        from window_client.services.document_pdf import render_documents_pdf  # reportlab: on use

        return render_documents_pdf(docs)

    return send_job(render, title, saved, printer)
