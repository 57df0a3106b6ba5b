"""Retry delays: exponential, jittered downwards, capped, and short again after a success."""

from workers.feeds import Backoff


def test_delays_double_up_to_the_cap_each_shortened_by_at_most_the_jitter():
    backoff = Backoff(initial=0.1, maximum=1.0, factor=2.0, jitter=0.5)

    delays = [backoff.next() for _ in range(200)]

    for attempt, delay in enumerate(delays):
        ceiling = min(1.0, 0.1 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) > 100  # jittered, so feeds that failed together do not retry together


def test_a_reset_starts_again_from_the_initial_delay():
    backoff = Backoff(initial=0.1, maximum=1.0, jitter=0.0)
    for _ in range(10):
        backoff.next()

    backoff.reset()

    assert backoff.next() == 0.1
