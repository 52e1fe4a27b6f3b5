"""The headless core never imports Textual (also enforced by import-linter in CI)."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "models.catalog", "models.identity", "models.tables", "models.records",
    "offline_cache", "offline_cache.repositories",
    "window_client.services.acceptance", "window_client.services.batch",
    "window_client.services.cases", "window_client.services.runtime",
    "window_client.services.documents", "window_client.cli",
]  # fmt: skip


def test_core_modules_do_not_load_textual() -> None:
    code = (
        "import sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    __import__(name)\n"
        "prefixes = ('textual.', 'screens')\n"
        "loaded = [m for m in sys.modules if m == 'textual' or m.startswith(prefixes)]\n"
        "print(sorted(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_boundary_check_itself_would_notice_textual() -> None:
    code = "import sys, textual.app\nprint('textual' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
