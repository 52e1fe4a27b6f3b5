"""The evaluator pad (``window-client evaluate --window N``) driven with Pilot on a real store."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.services.runtime import Runtime
from window_client.tui.evaluator_pad import EvaluatorPadApp

SIZE = (80, 24)
PAD_GROUPS = frozenset({"pad-poll", "pad-write"})


def pad_app(rt: Runtime) -> EvaluatorPadApp:
    """The pad of window 01 on the fixed day; it looks for cases only when told (F5)."""
    return EvaluatorPadApp(rt.ratings, "01", lambda: TODAY, poll_seconds=0)


def accept(rt: Runtime) -> str:
    decision = rt.acceptance.accept(request(tolerable_item(rt)), TODAY)
    assert decision.case_no is not None
    return decision.case_no


async def settle(pilot: Pilot[Any]) -> None:
    """Let the pad's store workers finish and their messages arrive."""
    deadline = time.monotonic() + 30
    while any(w.group in PAD_GROUPS and not w.is_finished for w in pilot.app.workers):
        assert time.monotonic() < deadline, "the pad's workers did not finish"
        await pilot.pause(0.01)
    await pilot.pause()


async def poll(pilot: Pilot[Any]) -> None:
    await pilot.press("f5")
    await settle(pilot)


def body(pilot: Pilot[Any]) -> str:
    screen = pilot.app.screen
    return "\n".join(str(screen.query_one(f"#pad-{part}", Static).render()) for part in ("body", "note"))


def stored(rt: Runtime) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        return conn.execute(
            "SELECT case_no, channel, level, reasons, text FROM ratings ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


async def test_the_pad_waits_then_offers_the_windows_case(rt: Runtime) -> None:
    async with pad_app(rt).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "请稍候" in body(pilot)
        await pilot.press("5")  # nothing to rate: the key does nothing
        case_no = accept(rt)
        await poll(pilot)
        assert case_no in body(pilot) and "[5] 非常满意" in body(pilot) and "[0] 不评价" in body(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert "感谢您的评价！您的评价：满意" in body(pilot)
        await poll(pilot)
        assert "感谢" in body(pilot)  # the rated case is not offered again
    assert stored(rt) == [(case_no, "pad", 4, "[]", None)]


async def test_a_bad_rating_asks_for_reasons_and_words(rt: Runtime) -> None:
    case_no = accept(rt)
    async with pad_app(rt).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        assert "请选择不满意的原因" in body(pilot)
        await pilot.press("enter")
        assert "请至少选择一项原因" in body(pilot)
        assert stored(rt) == []
        await pilot.press("1", "3", "3", "2")  # 服务态度 on, 服务水平 on and off, 服务效率 on
        assert "[1] ☑ 服务态度" in body(pilot) and "[3] ☐ 服务水平" in body(pilot)
        await pilot.press("t")
        assert isinstance(pilot.app.focused, Input)
        for key in "wait":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        assert "您的评价：不满意" in body(pilot)
    assert stored(rt) == [(case_no, "pad", 2, '["attitude", "efficiency"]', "wait")]


async def test_escape_goes_back_and_zero_declines(rt: Runtime) -> None:
    case_no = accept(rt)
    async with pad_app(rt).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1", "escape")
        assert "[1] 非常不满意" in body(pilot)
        await pilot.press("0")
        await settle(pilot)
        assert "已记录为未评价" in body(pilot)
    assert stored(rt) == [(case_no, "pad", None, "[]", None)]


async def test_a_rating_made_elsewhere_meanwhile_is_refused_on_screen(rt: Runtime) -> None:
    case_no = accept(rt)
    async with pad_app(rt).run_test(size=SIZE) as pilot:
        await settle(pilot)
        rt.ratings.record(case_no, 5, on=TODAY)  # e.g. the counter's modal, a second before
        await pilot.press("3")
        await settle(pilot)
        assert "未能记录" in body(pilot) and "每个渠道只能评价一次" in body(pilot)
    assert stored(rt) == [(case_no, "pad", 5, "[]", None)]
