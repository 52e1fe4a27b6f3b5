"""Scan a half-block QR drawing as a phone would see it: rebuild the module matrix from the
characters (no QR library involved), write it as a PBM bitmap and read it with zbar's ``zbarimg``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# Each cell: (top light, bottom light); light modules are the drawn blocks (see qr_terminal).
CELLS = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
SCALE = 4  # pixels per module: zbar wants more than one


def zbarimg() -> str | None:
    """zbar's command-line scanner, where the system has it (.ci/run installs zbar-tools)."""
    return shutil.which("zbarimg")


def modules(drawing: str) -> list[list[bool]]:
    """The dark/light matrix (True = dark) drawn by ``drawing``, two module rows per text line."""
    rows: list[list[bool]] = []
    for line in drawing.splitlines():
        cells = [CELLS[ch] for ch in line]
        rows.append([not top for top, _ in cells])
        rows.append([not bottom for _, bottom in cells])
    return rows


def write_pbm(rows: list[list[bool]], path: Path) -> Path:
    """A plain PBM (P1: 1 is black) of ``rows``, each module SCALE x SCALE pixels, framed in
    black as a dark terminal frames the drawing: the only quiet zone is the one drawn."""
    margin = 4
    width = len(rows[0]) + 2 * margin
    blank = [True] * width
    padded = [blank] * margin + [[True] * margin + r + [True] * margin for r in rows] + [blank] * margin
    lines = [f"P1\n{width * SCALE} {len(padded) * SCALE}"]
    for row in padded:
        pixels = " ".join("1" if dark else "0" for dark in row for _ in range(SCALE))
        lines += [pixels] * SCALE
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def scan(drawing: str, folder: Path) -> str:
    """What zbar reads from ``drawing`` (empty when it finds no code)."""
    tool = zbarimg()
    assert tool is not None
    image = write_pbm(modules(drawing), folder / "qr.pbm")
    command = [tool, "--raw", "-q", "-Sqrcode.enable", str(image)]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    return done.stdout.decode("utf-8").strip()
