"""The evaluator pad at 80x24, compared with the committed SVG snapshots (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/snapshots --snapshot-update`` and review
the SVGs in the diff.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from models.enums import ApplicantType, ItemKind, MaterialStatus, Tolerance
from tests.conftest import TODAY
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings
from window_client.tui.evaluator_pad import EvaluatorPadApp

SIZE = (80, 24)


def pad_with_a_case(home: Path) -> EvaluatorPadApp:
    """The pad of window 01 with one case accepted there today (fixed applicant and item)."""
    runtime = Runtime(Settings.from_env(), actor="C001")
    item = next(
        i
        for i in runtime.catalog.items.values()
        if i.kind is ItemKind.PROMISED
        and not any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in i.materials)
    )
    presented = {m.code: MaterialStatus.PRESENTED for m in item.materials}
    applicant = Applicant(ApplicantType.PERSON, person_id(random.Random(12)), "王小明", "13912345678")
    runtime.acceptance.accept(AcceptanceRequest(item.code, applicant, presented), TODAY)
    return EvaluatorPadApp(runtime.ratings, "01", lambda: TODAY, poll_seconds=0)


async def _settled(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_pad_offers_the_five_levels(snap_compare: Callable[..., bool], home: Path) -> None:
    assert snap_compare(pad_with_a_case(home), terminal_size=SIZE, run_before=_settled)


def test_pad_asks_the_reasons_of_a_bad_rating(snap_compare: Callable[..., bool], home: Path) -> None:
    async def bad(pilot: Pilot[Any]) -> None:
        await _settled(pilot)
        await pilot.press("1", "1", "4")

    assert snap_compare(pad_with_a_case(home), terminal_size=SIZE, run_before=bad)
