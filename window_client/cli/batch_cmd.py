"""``window-client batch``: accept many cases from a CSV, XLSX or JSON lines file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from window_client.cli.common import EXIT_FAILED, EXIT_OK, err, out, runtime, shown
from window_client.services.acceptance import Outcome
from window_client.services.batch import BatchRunner, BatchSummary
from window_client.services.runtime import parse_day

app = typer.Typer(help="Batch acceptance for integrators.", no_args_is_help=True)

STATUS_ZH = {
    Outcome.ACCEPTED: "受理",
    Outcome.ACCEPTED_TOLERATED: "容缺受理",
    Outcome.NOT_ACCEPTED: "不予受理",
    Outcome.NEEDS_APPROVAL: "待值班长审批",
    Outcome.INVALID: "数据无效",
    Outcome.DUPLICATE: "重复（已受理过）",
}


def print_summary(summary: BatchSummary) -> None:
    """The summary table, and where the rejects went."""
    title = "批量受理结果（试运行，未写入）" if summary.dry_run else "批量受理结果"
    table = Table("status", "状态", "rows", title=title)
    for outcome in Outcome:
        table.add_row(outcome.value, STATUS_ZH[outcome], str(summary.counts.get(outcome.value, 0)))
    table.add_row("total", "合计", str(summary.rows), style="bold")
    out.print(table)
    if summary.rejected and summary.rejects_path:
        out.print(f"{summary.rejected} row(s) rejected, with reasons: {shown(str(summary.rejects_path))}")
    if summary.report_path:
        out.print(f"report: {shown(str(summary.report_path))}")


@app.command("accept")
def accept(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM or GBK), XLSX or JSON lines.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide every row but write nothing.")] = False,
    today: Annotated[
        str | None,
        typer.Option(help="Acceptance date YYYY-MM-DD (default: today).", metavar="DATE"),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the per-row JSON report here.", metavar="PATH")
    ] = None,
) -> None:
    """Accept every row of FILE; rejected rows go to FILE.rejects.csv with their reasons.

    Exit code 0 when every row was accepted (or had been before), 1 when some rows were
    rejected, 2 when the file itself cannot be used, 3 when the disk is full (the rows
    committed so far are kept: free some space and run it again).
    """
    with runtime("batch") as rt:
        day = parse_day(today)
        runner = BatchRunner(rt.acceptance)
        if err.is_terminal:
            with Progress(
                TextColumn("受理中"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err, transient=True,
            ) as progress:  # fmt: skip
                task = progress.add_task("batch", total=None)

                def show(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                summary = runner.run(file, day, dry_run, report, show)
        else:
            summary = runner.run(file, day, dry_run, report)
        print_summary(summary)
        code = EXIT_FAILED if summary.rejected else EXIT_OK
    raise typer.Exit(code)
