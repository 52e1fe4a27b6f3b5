"""The ``window-client`` console script: the counter without arguments, the CLI otherwise.

Kept apart from :mod:`window_client.cli` so that starting the counter does not first import
Typer and every command's services: the sign-in screen should be on the terminal about as fast
as a bare Textual app's (see tests/bench/bench_startup.py).
"""

from __future__ import annotations

import sys


def run_counter() -> int:
    """Start the TUI on this station; an empty station gets the demo staff and the bundled
    sample cases first. Returns the exit code (2 when the station could not be opened)."""
    from window_client.app import WindowClientApp

    app = WindowClientApp(samples=True)
    app.run()
    return app.return_code or 0


def main() -> None:
    """Console-script entry point."""
    if len(sys.argv) > 1:
        from window_client.cli import main as cli_main

        cli_main()
        return
    sys.exit(run_counter())
