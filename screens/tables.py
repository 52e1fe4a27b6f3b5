"""Table cells that fit an 80-column terminal: one line each, long names cut with an ellipsis.

Every table of the counter has one flexible column (the item or material name) and fixed
ones; the flexible column gets what the screen leaves, so no table needs horizontal
scrolling at 80x24 and wider screens show more of the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from models.enums import CaseState

# Terminal columns a DataTable spends around each cell (cell padding 1 + 1) and on its
# vertical scrollbar (see app.tcss: scrollbar-size-vertical).
CELL_PADDING = 2
SCROLLBAR = 1
MIN_FLEXIBLE = 6

# State names short enough for an 8-column table cell; the case detail shows the full name.
STATE_SHORT: dict[str, str] = {
    CaseState.ACCEPTED: "已受理",
    CaseState.ACCEPTED_TOLERATED: "容缺受理",
    CaseState.NOT_ACCEPTED: "不予受理",
    CaseState.SUPPLEMENTED: "已补齐",
    CaseState.APPROVED: "已办结",
    CaseState.REFUSED: "不予许可",
    CaseState.CERTIFICATE_ISSUED: "已出证",
    CaseState.DELIVERED: "已领取",
    CaseState.TERMINATED: "已终止",
    CaseState.WITHDRAWN: "已撤回",
}
FLAG_STYLE: dict[str | None, tuple[str, str]] = {
    "red": ("红", "bold red"),
    "yellow": ("黄", "bold yellow"),
    "green": ("绿", "green"),
    None: ("", ""),
}
# Tables load a page of rows from SQLite and the next one when the cursor comes within
# PAGE_MARGIN rows of the end: opening a screen never reads more than a page.
MIN_PAGE = 50
PAGE_MARGIN = 10


def flag_text(flag: str | None) -> Text:
    """The 红/黄/绿 mark of a deadline (a new Text: tables keep and restyle their cells)."""
    text, style = FLAG_STYLE[flag]
    return Text(text, style=style)


def page_size(screen: Widget) -> int:
    """Rows per page: at least two screens full."""
    return max(MIN_PAGE, 2 * (screen.size.height or screen.app.size.height))


def fit(value: str, width: int, style: str = "") -> Text:
    """``value`` as one line of at most ``width`` terminal columns (CJK characters take two),
    cut with an ellipsis; never markup, so a name like "[red]" shows as typed."""
    text = Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")
    if cell_len(value) > width:
        text.truncate(width, overflow="ellipsis")
    return text


def screen_width(screen: Widget) -> int:
    """The width tables are fitted to: the screen's, or the app's before the first layout."""
    return screen.size.width or screen.app.size.width


def flexible_width(total: int, fixed: Sequence[int], minimum: int = MIN_FLEXIBLE) -> int:
    """Columns left for the one flexible column of a table ``total`` columns wide whose other
    columns are ``fixed`` wide."""
    columns = len(fixed) + 1
    return max(minimum, total - sum(fixed) - CELL_PADDING * columns - SCROLLBAR)


def column_width(values: Iterable[str], limit: int, header: str = "") -> int:
    """The width a fixed column needs for ``values`` and its header, at most ``limit``: a
    page of short names leaves the room to the flexible column."""
    return min(limit, max([cell_len(header), *(cell_len(v) for v in values)]))
