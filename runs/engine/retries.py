"""Exponential backoff with jitter. The jitter comes from the run's seed and the activity key,
never from a shared random state, so a resumed run waits the same and concurrent branches do
not disturb each other's delays."""

from __future__ import annotations

import random


def backoff_delay(seed: int, activity_key: str, attempt: int, base_s: float, cap_s: float) -> float:
    """Delay before retry number ``attempt`` (1-based): "equal jitter" in [d/2, d]."""
    ceiling = min(cap_s, base_s * 2 ** (attempt - 1))
    jitter = random.Random(f"{seed}:{activity_key}:{attempt}").random()
    return ceiling / 2 + ceiling / 2 * jitter
