"""The retry schedule of the sync engine: exponential, jittered, capped, reset by success."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from window_client.services.sync import Backoff, backoff_delay


def test_delay_doubles_from_the_base_without_jitter() -> None:
    delays = [backoff_delay(n, base=2.0, factor=2.0, cap=300.0, jitter=0.0, unit=0.5) for n in range(1, 8)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]


def test_delay_stops_growing_at_the_cap() -> None:
    assert backoff_delay(9, 2.0, 2.0, 300.0, 0.0, 0.5) == 300.0
    assert backoff_delay(10_000, 2.0, 2.0, 300.0, 0.0, 0.5) == 300.0  # weeks offline: no overflow


def test_no_failure_means_no_wait() -> None:
    assert backoff_delay(0, 2.0, 2.0, 300.0, 0.2, 0.9) == 0.0


@given(
    failures=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.1, max_value=10),
    factor=st.floats(min_value=1, max_value=4),
    jitter=st.floats(min_value=0, max_value=0.99),
    unit=st.floats(min_value=0, max_value=0.999999),
)
def test_jittered_delay_stays_within_its_band_and_the_cap(
    failures: int, base: float, factor: float, jitter: float, unit: float
) -> None:
    cap = 300.0
    nominal = min(cap, base * factor ** min(failures - 1, 64))
    delay = backoff_delay(failures, base, factor, cap, jitter, unit)
    assert 0 <= delay <= cap
    assert nominal * (1 - jitter) - 1e-9 <= delay <= nominal * (1 + jitter) + 1e-9


def test_stations_failing_together_do_not_retry_in_step() -> None:
    """Jitter: ten stations after the same outage pick different delays."""
    delays = {round(Backoff(rng=random.Random(seed)).failure(), 6) for seed in range(10)}
    assert len(delays) == 10
    assert all(1.6 <= d <= 2.4 for d in delays)


def test_failures_grow_the_delay_and_success_resets_it() -> None:
    backoff = Backoff(jitter=0.0)
    assert [backoff.failure() for _ in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff.failures == 4
    backoff.success()
    assert backoff.failures == 0
    assert backoff.failure() == 2.0


def test_same_seed_same_schedule() -> None:
    first = Backoff(rng=random.Random(42))
    second = Backoff(rng=random.Random(42))
    assert [first.failure() for _ in range(6)] == [second.failure() for _ in range(6)]


@pytest.mark.parametrize(
    "kwargs",
    [{"base": 0}, {"factor": 0.5}, {"cap": 1.0, "base": 2.0}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_nonsense_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]
