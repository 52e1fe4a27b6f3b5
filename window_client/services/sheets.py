"""Plain-text sheets staff print (the 日结单, the 催办清单), saved beside the station's data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def save_sheet(folder: Path, filename: str, lines: Sequence[str]) -> Path:
    """Write ``lines`` as ``folder/filename`` (UTF-8, one line each); returns the path.

    Raises ``OSError`` when the folder cannot be made or the file written (a full disk).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
