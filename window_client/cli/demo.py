"""The counter and the demo: ``window-client`` (the TUI), ``window-client demo`` (the TUI with a
demo hall server on loopback) and ``window-client sample`` (the sample batch, no TUI)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import typer

from window_client.cli.batch_cmd import print_summary
from window_client.cli.common import out, runtime, shown
from window_client.services.batch import BatchRunner


def run_counter() -> None:
    """Start the TUI on this station (see :mod:`window_client.launch`): an empty station is
    seeded with the demo staff and the sample cases first."""
    from window_client.launch import run_counter as start

    raise typer.Exit(start())


def run_demo() -> None:
    """Start the demo hall server on loopback (unless a hall is configured) and the TUI; the
    server stops when the TUI exits (see :func:`window_client.launch.run_demo`)."""
    from window_client.launch import run_demo as start

    raise typer.Exit(start())


def run_sample_batch() -> None:
    """Copy the bundled sample file into the data directory and accept it (re-runs find
    every row already accepted: nothing is accepted twice)."""
    with runtime("demo") as rt:
        source = resources.files("window_client") / "data" / "sample_batch.csv"
        target = Path(rt.settings.home) / "sample_batch.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        out.print(f"[bold]{shown(rt.station.name)}[/]：批量受理示例文件 {shown(target)}")
        summary = BatchRunner(rt.acceptance).run(target, dt.date.today(), report_path=None)
        print_summary(summary)
        out.print(f"本地库：{shown(rt.settings.db_path)}（window-client cases list 查看办件）")
    raise typer.Exit(0)
