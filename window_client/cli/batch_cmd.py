"""``window-client batch``: accept many cases from a CSV, XLSX or JSON lines file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from window_client.cli.common import EXIT_FAILED, EXIT_OK, err, out, runtime, shown
from window_client.cli.lang import current, labels, say
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
    """The summary table, and where the rejects went (in the chosen language)."""
    title = say("batch.title_dry" if summary.dry_run else "batch.title")
    table = Table(*labels("batch.columns"), title=title)
    for outcome in Outcome:
        table.add_row(outcome.value, STATUS_ZH[outcome], str(summary.counts.get(outcome.value, 0)))
    table.add_row("total", say("batch.total"), str(summary.rows), style="bold")
    out.print(table)
    if summary.rejected and summary.rejects_path:
        out.print(say("batch.rejected", count=summary.rejected, path=shown(str(summary.rejects_path))))
    elif summary.rejected:
        out.print(say("batch.rejected_dry", count=summary.rejected))
    if summary.report_path:
        out.print(say("batch.report", path=shown(str(summary.report_path))))


@app.command("accept")
def accept(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM or GBK), XLSX or JSON lines.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Decide every row but write nothing (no cases, no rejects file; --report still).",
        ),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(help="Acceptance date YYYY-MM-DD (default: today).", metavar="DATE"),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the per-row JSON report here.", metavar="PATH")
    ] = None,
) -> None:
    """Accept every row of FILE; rejected rows go to FILE.rejects.csv (the whole file name, so
    b.csv and b.xlsx never share one) with their reasons, ready to fix and run again.

    Exit code 0 when every row was accepted (or had been before), 1 when some rows were
    rejected, 2 when the file itself cannot be used, 3 when the disk is full (the rows
    committed so far are kept: free some space and run it again).
    """
    with runtime("batch") as rt:
        day = parse_day(today)
        runner = BatchRunner(rt.acceptance, language=current())
        if err.is_terminal:
            with Progress(
                TextColumn(say("batch.progress")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
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
