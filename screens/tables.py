"""Table cells that fit an 80-column terminal: one line each, long names cut with an ellipsis.

Every table of the counter has one flexible column (the item or material name) and fixed
ones; the flexible column gets what the screen leaves, so no table needs horizontal
scrolling at 80x24 and wider screens show more of the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text

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
FLAG_TEXT: dict[str | None, Text] = {
    "red": Text("红", style="bold red"),
    "yellow": Text("黄", style="bold yellow"),
    "green": Text("绿", style="green"),
    None: Text(""),
}


def fit(value: str, width: int, style: str = "") -> Text:
    """``value`` as one line of at most ``width`` terminal columns (CJK characters take two),
    cut with an ellipsis; never markup, so a name like "[red]" shows as typed."""
    text = Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")
    if cell_len(value) > width:
        text.truncate(width, overflow="ellipsis")
    return text


def flexible_width(total: int, fixed: Sequence[int], minimum: int = MIN_FLEXIBLE) -> int:
    """Columns left for the one flexible column of a table ``total`` columns wide whose other
    columns are ``fixed`` wide."""
    columns = len(fixed) + 1
    return max(minimum, total - sum(fixed) - CELL_PADDING * columns - SCROLLBAR)


def column_width(values: Iterable[str], limit: int, header: str = "") -> int:
    """The width a fixed column needs for ``values`` and its header, at most ``limit``: a
    page of short names leaves the room to the flexible column."""
    return min(limit, max([cell_len(header), *(cell_len(v) for v in values)]))
