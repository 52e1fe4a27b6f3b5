"""Drawing one printed document: the PDF ``lp`` gets against the HTML page saved beside it.

Run with the project's interpreter::

    .venv/bin/python tests/bench/bench_print.py          # 30 renders of each
    .venv/bin/python tests/bench/bench_print.py --json   # one JSON object on stdout

The document is a 容缺受理通知书 with both copies (two A4 sheets). ``first_pdf_ms`` includes
registering the fonts (reading the CJK TrueType file once a process); the others are medians of
warm renders. ``ratio = pdf_ms / html_ms``. Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from window_client.services.document_pdf import render_documents_pdf
from window_client.services.documents import Document
from window_client.services.pdf_sheet import fonts
from window_client.services.printing import render_documents_html

NOTICE = Document(
    kind="tolerance_notice",
    title="容缺受理通知书",
    case_no="GXZX-20261120-00001",
    copies=("申请人留存联", "档案联"),
    fields=(
        ("办件编号", "GXZX-20261120-00001"),
        ("申请事项", "有限责任公司设立登记"),
        ("申请人", "王小明"),
        ("证件号码", "610122********8779"),
        ("受理窗口", "GXZX"),
        ("受理人", "C001"),
        ("受理日期", "2026年11月20日"),
    ),
    table_header=("容缺材料", "补正形式", "补正期限"),
    table_rows=(
        ("法定代表人、董事、监事、高级管理人员任职文件", "原件或复印件（以事项要求为准）", "2026年11月23日"),
    ),
    paragraphs=(
        "您申请的事项主要申请材料齐全，次要材料暂缺，根据容缺受理有关规定，本窗口予以容缺受理。",
        "请您按照《容缺受理承诺书》的承诺，在上表所列补正期限内提交所缺材料。",
        "补正期间暂停计算办理时限，材料补齐之日起恢复计算；材料补齐前不予出证。",
        "逾期未补正或补正材料不符合要求的，终止办理，并记入申请人容缺承诺履行记录。",
    ),
    signatures=("申请人签字（承诺人）", "受理人签字"),
)


def median_ms(render: Callable[[], object], runs: int) -> float:
    """Median wall time of ``render`` in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    start = time.perf_counter()
    pdf = render_documents_pdf([NOTICE])
    first = (time.perf_counter() - start) * 1000
    pdf_ms = median_ms(lambda: render_documents_pdf([NOTICE]), args.runs)
    html_ms = median_ms(lambda: render_documents_html([NOTICE]), args.runs * 10)
    figures = {
        "font": fonts().embedded or "none (STSong-Light, not embedded)",
        "pdf_bytes": len(pdf),
        "first_pdf_ms": round(first, 1),
        "pdf_ms": round(pdf_ms, 2),
        "html_ms": round(html_ms, 3),
        "ratio": round(pdf_ms / html_ms),
    }
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:>14}: {value}")


if __name__ == "__main__":
    main()
