"""Backoff grows exponentially up to a cap, with jitter drawn from the run's seed and the
activity, so a resumed run waits the same and branches do not disturb each other."""

from runs.engine.retries import backoff_delay


def test_the_delay_doubles_per_attempt_within_its_jitter_band_and_stops_at_the_cap():
    delays = [backoff_delay(7, "run/a/t1/model", n, base_s=1.0, cap_s=8.0) for n in range(1, 7)]

    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(8.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


def test_the_jitter_is_a_function_of_seed_activity_and_attempt():
    same = backoff_delay(7, "run/a/t1/model", 2, 1.0, 30.0)

    assert backoff_delay(7, "run/a/t1/model", 2, 1.0, 30.0) == same
    assert backoff_delay(8, "run/a/t1/model", 2, 1.0, 30.0) != same
    assert backoff_delay(7, "run/b/t1/model", 2, 1.0, 30.0) != same
