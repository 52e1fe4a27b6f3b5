"""The retry schedule after failures: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


def backoff_delay(failures: int, base: float, factor: float, cap: float, jitter: float, unit: float) -> float:
    """Seconds to wait after ``failures`` consecutive failures (``failures`` >= 1).

    The nominal delay grows ``base * factor ** (failures - 1)`` up to ``cap``; ``unit`` in
    [0, 1) spreads it over ``±jitter`` of itself so that the stations of a hall that lost the
    network together do not all come back in the same second. Never above ``cap``.
    """
    if failures <= 0:
        return 0.0
    # The exponent is bounded so that a station offline for weeks does not overflow a float.
    nominal = min(cap, base * factor ** min(failures - 1, 64))
    spread = nominal * jitter * (2.0 * unit - 1.0)
    return max(0.0, min(cap, nominal + spread))


@dataclass
class Backoff:
    """Exponential backoff with jitter; pure apart from its random source.

    Attributes:
        base: seconds after the first failure.
        factor: growth per further failure.
        cap: the longest wait.
        jitter: fraction of the delay spread either way.
        failures: consecutive failures so far.
    """

    base: float = 2.0
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs base > 0, factor >= 1, cap >= base and 0 <= jitter < 1")

    def failure(self) -> float:
        """Count a failure; returns how long to wait before the next attempt."""
        self.failures += 1
        return backoff_delay(self.failures, self.base, self.factor, self.cap, self.jitter, self.rng.random())

    def success(self) -> None:
        """The server answered: start again from the shortest delay."""
        self.failures = 0
