"""Saving a sheet without holding the UI thread: the file is written in a thread worker (group
``sheets``); staff then see where it went, or an error dialog when it could not be written."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from textual.dom import DOMNode

from screens.dialogs import ErrorDialog
from window_client.services.sheets import save_sheet

SAVE_GROUP = "sheets"


def save_in_background(node: DOMNode, folder: Path, filename: str, lines: Sequence[str], saved: str) -> None:
    """Write ``lines`` to ``folder/filename`` off the UI thread; ``saved`` (with ``{path}``) is
    the notice shown once it is written."""
    node.run_worker(
        partial(save_from_worker, node, folder, filename, list(lines), saved),
        thread=True,
        exit_on_error=False,
        group=SAVE_GROUP,
        name=f"save {filename}",
    )


def save_from_worker(node: DOMNode, folder: Path, filename: str, lines: Sequence[str], saved: str) -> None:
    """:func:`save_in_background`'s body, for a thread worker that has more to do first."""
    app = node.app
    try:
        path = save_sheet(folder, filename, lines)
    except OSError as exc:
        app.call_from_thread(app.push_screen, ErrorDialog(str(exc)))
        return
    app.call_from_thread(app.notify, saved.format(path=path))
