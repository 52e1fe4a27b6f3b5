"""The printable certificate (A4 HTML or SVG page) and the QR code rendered for a terminal.

HTML rather than PDF: a browser prints it on A4 with the office's own CJK fonts, so no font
has to be shipped or embedded; the QR code is inline SVG (vector, sharp at any printer
resolution). The QR text is also kept in a ``<meta>`` element so that ``window-client verify
FILE`` reads a saved page directly. All wording a clerk or holder reads is Chinese and lives in
:data:`TEXT`.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import segno

from models.certificates import CertificateView
from window_client.services.printing import FONTS, SHEET_CSS

TEXT: dict[str, Any] = {
    "identifier": "证照标识",
    "holder": "持证主体",
    "holder_type": "持证主体代码类型",
    "holder_code": "持证主体代码",
    "issuer": "颁发机构",
    "issuer_code": "颁发机构代码",
    "issued_on": "颁发日期",
    "validity": "有效期限",
    "long_term": "长期有效",
    "until": "{start} 至 {end}",
    "cases": "关联办件",
    "key": "签章密钥",
    "seal": "电子签章（SM2/SM3）",
    "scan": "扫描二维码核验真伪",
    "footer": "本证照由{issuer}颁发，加盖电子签章；可离线核验（window-client verify）。",
    "revoked": "本证照已撤销",
    "holder_type_zh": {"111": "公民身份号码", "001": "统一社会信用代码"},
}


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def rows_of(view: CertificateView) -> list[tuple[str, str]]:
    """(label, value) lines of the printed form."""
    b = view.body
    validity = (
        TEXT["long_term"]
        if b.valid_until is None
        else TEXT["until"].format(start=_date_zh(b.issued_on), end=_date_zh(b.valid_until))
    )
    return [
        (TEXT["identifier"], b.identifier),
        (TEXT["holder"], b.holder_name),
        (
            TEXT["holder_type"],
            f"{TEXT['holder_type_zh'][b.holder_id_type.value]}（{b.holder_id_type.value}）",
        ),
        (TEXT["holder_code"], b.holder_id),
        (TEXT["issuer"], b.issuer_name),
        (TEXT["issuer_code"], b.issuer_code),
        (TEXT["issued_on"], _date_zh(b.issued_on)),
        (TEXT["validity"], validity),
        (TEXT["cases"], "、".join(b.case_nos)),
        (TEXT["key"], b.key_id),
    ]


def qr_code(qr_text: str) -> Any:
    """The QR symbol (error correction M: survives a scuffed print, still one symbol)."""
    return segno.make(qr_text, error="m", boost_error=False)


def qr_svg(qr_text: str, scale: int = 4) -> str:
    """The QR code as an inline ``<svg>`` element."""
    return str(qr_code(qr_text).svg_inline(scale=scale, border=2, dark="#000", light="#fff"))


# The screen's code: error correction L (a screen shows clean modules, and L keeps the symbol
# smallest: version 5, 37 modules, for a usual ZZ2 certificate). The quiet zone is the
# standard's 4 modules when the code then fits SCREEN_ROWS (a version 5 symbol: 45 modules, 23
# rows, the rows an 80x24 dialog gives it), else 2 (phone scanners and zbar read it even on a
# black terminal), so a version 6 symbol fits those rows too.
SCREEN_ERROR = "l"
SCREEN_BORDER = 4
SCREEN_MIN_BORDER = 2
SCREEN_ROWS = 23
# Two modules a cell, top and bottom; light modules are the drawn ink, so the code reads on a
# dark terminal as it is and the screen pins white on black for any theme.
_HALF_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def qr_terminal(qr_text: str, border: int | None = None) -> str:
    """The QR code as half-block text (two modules a character cell: ▀ ▄ █ and space), light
    modules drawn, ``border`` light modules of quiet zone around it (by default as wide as
    :data:`SCREEN_ROWS` allow, 4 to 2); one line per two rows."""
    matrix = segno.make(qr_text, error=SCREEN_ERROR, boost_error=False).matrix
    if border is None:
        fits = len(matrix) + 2 * SCREEN_BORDER <= 2 * SCREEN_ROWS
        border = SCREEN_BORDER if fits else SCREEN_MIN_BORDER
    width = len(matrix[0]) + 2 * border
    light_row = [True] * width
    rows = [light_row] * border
    rows += [[True] * border + [not dark for dark in row] + [True] * border for row in matrix]
    rows += [light_row] * border
    if len(rows) % 2:
        rows.append(light_row)
    lines = (
        "".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True))
        for top, bottom in zip(rows[0::2], rows[1::2], strict=True)
    )
    return "\n".join(lines) + "\n"


def render_html(view: CertificateView) -> str:
    """A self-contained A4 page of the certificate with its QR code."""
    e = html.escape
    b = view.body
    rows = "\n".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in rows_of(view))
    revoked = f'<p class="revoked">{e(TEXT["revoked"])}</p>' if view.revocation else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="certificate-identifier" content="{e(b.identifier)}">
<meta name="certificate-qr" content="{e(view.qr)}">
<title>{e(b.type_name)} {e(b.identifier)}</title>
<style>
{SHEET_CSS}
table {{ width: 100%; border-collapse: collapse; }}
.qr {{ text-align: center; margin-top: 12mm; }}
.qr svg {{ width: 45mm; height: 45mm; }}
.qr p {{ margin: 2mm 0 0; font-size: 10pt; }}
.seal {{ margin-top: 8mm; font-size: 8pt; word-break: break-all; color: #333; }}
.footer {{ margin-top: 6mm; font-size: 10pt; }}
.revoked {{ color: #b00; font-size: 20pt; text-align: center; border: 1mm solid #b00; padding: 2mm; }}
</style>
</head>
<body>
<div class="sheet">
<h1>{e(b.type_name)}</h1>
{revoked}
<table>
{rows}
</table>
<div class="qr">
{qr_svg(view.qr)}
<p>{e(TEXT["scan"])}</p>
</div>
<p class="seal">{e(TEXT["seal"])}：{e(view.seal)}</p>
<p class="footer">{e(TEXT["footer"].format(issuer=b.issuer_name))}</p>
</div>
</body>
</html>
"""


def render_svg(view: CertificateView) -> str:
    """The same certificate as one A4 SVG page (210 x 297 mm, user units in mm)."""
    e = html.escape
    b = view.body
    lines = []
    y = 62.0
    for label, value in rows_of(view):
        size = 3.4 if len(value) > 40 else 4.2
        lines.append(
            f'<text x="30" y="{y:.1f}" font-size="4.2">{e(label)}</text>'
            f'<text x="72" y="{y:.1f}" font-size="{size}">{e(value)}</text>'
        )
        y += 10
    qr = qr_code(view.qr)
    modules = qr.symbol_size(scale=1, border=2)[0]
    scale = 48 / modules
    inner = qr.svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True)
    revoked = (
        f'<text x="105" y="52" font-size="8" fill="#b00" text-anchor="middle">{e(TEXT["revoked"])}</text>'
        if view.revocation
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297"
 font-family='{FONTS}' data-certificate-qr="{e(view.qr)}">
<title>{e(b.type_name)} {e(b.identifier)}</title>
<rect x="0" y="0" width="210" height="297" fill="#fff"/>
<rect x="15" y="15" width="180" height="267" fill="none" stroke="#000" stroke-width="0.8"/>
<rect x="17" y="17" width="176" height="263" fill="none" stroke="#000" stroke-width="0.3"/>
<text x="105" y="40" font-size="12" text-anchor="middle" letter-spacing="3">{e(b.type_name)}</text>
{revoked}
{"".join(lines)}
<g transform="translate(81,{y + 4:.1f}) scale({scale:.4f})">{inner}</g>
<text x="105" y="{y + 58:.1f}" font-size="3.6" text-anchor="middle">{e(TEXT["scan"])}</text>
<text x="30" y="{y + 68:.1f}" font-size="3">{e(TEXT["footer"].format(issuer=b.issuer_name))}</text>
</svg>
"""
