"""The reference data shipped with both the counter and the hall, kept once in ``models/data``:
the demo catalogue (``catalog.json``) and the official holiday arrangements (``holidays/``).
The client loads them through :mod:`window_client.services.catalog` and
:mod:`window_client.services.workdays`, the hall through ``hall_server/reference.py``."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOG_PATH = DATA_DIR / "catalog.json"
HOLIDAYS_DIR = DATA_DIR / "holidays"
