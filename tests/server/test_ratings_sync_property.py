"""No interleaving of offline ratings and syncs loses or duplicates a rating (issue 12).

A real station store syncs with the real hall on loopback (a fresh server and store per
example). Hypothesis draws a sequence of: accept a case, rate or decline one through a channel
(offline: nothing is sent), sync, and "lose the answers" — the hall committed a push but the
station never heard, so every acknowledged operation is sent again. After a last sync the hall
holds exactly the station's ratings, each once, a rectification record for each 差评, and the
station nothing pending or refused.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from models.problems import DomainError
from models.rating import RatingChannel, is_bad
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.server.conftest import Served
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

REASONS = ["attitude", "efficiency", "skill", "guide", "other"]
actions = st.lists(
    st.one_of(
        st.just(("accept",)),
        st.tuples(
            st.just("rate"),
            st.integers(0, 5),
            st.sampled_from(list(RatingChannel)),
            st.integers(0, 5),  # 0: declined
        ),
        st.just(("sync",)),
        st.just(("lose_answers",)),
    ),
    max_size=14,
)


def _rate(rt: Runtime, case_no: str, channel: RatingChannel, level: int) -> None:
    if level == 0:
        rt.ratings.decline(case_no, channel, on=TODAY)
    else:
        reasons = [REASONS[level % 5]] if is_bad(level) else []
        rt.ratings.record(case_no, level, reasons, channel=channel, on=TODAY)


def _local(rt: Runtime, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        with conn:
            return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _run(rt: Runtime, steps: list[tuple[Any, ...]]) -> set[tuple[str, str, int | None]]:
    cases: list[str] = []
    expected: set[tuple[str, str, int | None]] = set()
    for step in steps:
        if step[0] == "accept":
            decision = rt.acceptance.accept(request(tolerable_item(rt)), TODAY)
            assert decision.case_no is not None
            cases.append(decision.case_no)
        elif step[0] == "rate" and cases:
            case_no, channel, level = cases[step[1] % len(cases)], step[2], step[3]
            taken = any(c == case_no and ch == channel for c, ch, _ in expected)
            try:
                _rate(rt, case_no, channel, level)
            except DomainError as exc:
                assert taken and exc.problem.code == "rating.exists"
            else:
                assert not taken
                expected.add((case_no, channel.value, level or None))
        elif step[0] == "sync":
            rt.sync_once()
        elif step[0] == "lose_answers":
            _local(rt, "UPDATE outbox SET status = 'pending', result = NULL WHERE status = 'acked'")
    rt.sync_once()
    return expected


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_offline_ratings_and_syncs_lose_and_duplicate_nothing(
    make_server: Callable[..., Served], steps: list[tuple[Any, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        server = make_server(f"sqlite:///{home / 'hall.db'}")
        rt = Runtime(Settings(home=home / "station", station="GXZX", server=server.url), actor="C001")
        try:
            rt.sync.sign_in_online("C001", "demo-1234")
            expected = _run(rt, steps)
            with server.engine.connect() as conn:
                held = [tuple(r) for r in conn.execute(text("SELECT case_no, channel, level FROM ratings"))]
                records = conn.execute(text("SELECT COUNT(*) FROM rectifications")).scalar()
            assert sorted(held, key=str) == sorted(expected, key=str)  # none lost, none twice
            assert records == sum(1 for *_, level in expected if is_bad(level))
            assert _local(rt, "SELECT COUNT(*) FROM outbox WHERE status != 'acked'") == [(0,)]
            assert set(_local(rt, "SELECT case_no, channel, level FROM ratings")) == expected
        finally:
            rt.close()
            server.thread.stop()
