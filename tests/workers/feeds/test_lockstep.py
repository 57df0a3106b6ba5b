"""Lockstep replays: after each candle close the feed waits for the pipeline's progress key in Redis."""

import asyncio
import os
import threading
import time

import pytest

from tests.workers.feeds.conftest import MINUTE, T0, candles
from tickflow.storage import keys
from workers.feeds import (
    BatchPublisher,
    Lockstep,
    LockstepTimeout,
    ReplayFeed,
    run_feed,
)
from workers.progress import mark_candle_processed

SYMBOL = f"LOCKSTEP{os.getpid()}"  # not BTCUSDT: a parallel test run of the live engine marks that one
THREE_CANDLES = candles((100, 101, 99, 100.5, 8), (100.5, 102, 100, 101, 8), (101, 101.5, 98, 99, 8))


def sent_ticks(payloads: list[dict]) -> int:
    return sum(len(payload["t"]) for payload in payloads)


def show_applied(redis, payloads: list[dict]) -> None:
    """What ingest would leave in Redis: the forming candle of the latest tick sent so far."""
    latest = max(t for payload in payloads for t in payload["t"])
    redis.hset(keys.current_candle(SYMBOL, "1m"), "t", latest - latest % MINUTE)


def wait_for(check, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_lockstep_sends_nothing_past_a_candle_close_until_the_pipeline_reports_that_candle_processed(redis):
    payloads: list[dict] = []
    seen: list[int] = []

    def pipeline() -> None:
        """Stands in for the live engine: checks what arrived, then marks the closed candle processed."""
        for closed, ticks_by_then in ((T0, 5), (T0 + MINUTE, 9)):
            wait_for(lambda expected=ticks_by_then: sent_ticks(payloads) >= expected)
            show_applied(redis, payloads)
            time.sleep(0.2)  # a slow pipeline: the feed must still be waiting
            seen.append(sent_ticks(payloads))
            mark_candle_processed(redis, SYMBOL, "1m", closed)

    async def replay() -> None:
        # A long batch interval: only lockstep's flush can get the closing tick out this fast.
        async with BatchPublisher(payloads.append, batch_interval_s=30) as publisher:
            feed = ReplayFeed(
                {SYMBOL: THREE_CANDLES}, "1m", speed=0, checkpoint=Lockstep(publisher, redis, "1m", timeout_s=10)
            )
            await run_feed(feed, publisher)

    helper = threading.Thread(target=pipeline)
    helper.start()
    asyncio.run(replay())
    helper.join()

    # The first candle and the tick closing it, then the second and the tick closing it.
    assert seen == [5, 9]
    assert sent_ticks(payloads) == 12


def test_lockstep_gives_up_with_a_one_line_error_when_the_pipeline_never_answers(redis):
    async def replay() -> None:
        async with BatchPublisher(lambda payload: None) as publisher:
            feed = ReplayFeed(
                {SYMBOL: THREE_CANDLES}, "1m", speed=0, checkpoint=Lockstep(publisher, redis, "1m", timeout_s=0.3)
            )
            await run_feed(feed, publisher)

    started = time.monotonic()
    with pytest.raises(LockstepTimeout, match=rf"{SYMBOL} 1m candle of 2024-01-01T00:00:00Z processed within 0.3 s"):
        asyncio.run(replay())
    assert time.monotonic() - started < 2


def test_a_candle_already_processed_does_not_hold_the_replay_up(redis):
    mark_candle_processed(redis, SYMBOL, "1m", T0 + MINUTE)  # e.g. a rerun: progress only moves forward

    async def replay() -> int:
        async with BatchPublisher(lambda payload: None) as publisher:
            feed = ReplayFeed(
                {SYMBOL: THREE_CANDLES}, "1m", speed=0, checkpoint=Lockstep(publisher, redis, "1m", timeout_s=1)
            )
            return (await run_feed(feed, publisher)).ticks_sent

    assert asyncio.run(replay()) == 12


def test_after_the_first_batch_nothing_more_is_sent_until_redis_shows_it_applied(redis):
    """The first batch closes nothing, so there is no close to wait on; a second batch sent at once could be
    applied first by the other pool process and make the first one's ticks late."""
    payloads: list[dict] = []
    sent_when_applied: list[int] = []

    def pipeline() -> None:
        wait_for(lambda: payloads)
        time.sleep(0.2)  # slow to apply the first batch: the feed must not send the second meanwhile
        sent_when_applied.append(len(payloads))
        show_applied(redis, payloads[:1])
        for closed in (T0, T0 + MINUTE):
            mark_candle_processed(redis, SYMBOL, "1m", closed)

    async def replay() -> int:
        # Batches of two ticks: the first candle's four ticks and its closing tick leave in three batches.
        async with BatchPublisher(payloads.append, batch_size=2, batch_interval_s=30) as publisher:
            feed = ReplayFeed(
                {SYMBOL: THREE_CANDLES}, "1m", speed=0, checkpoint=Lockstep(publisher, redis, "1m", timeout_s=10)
            )
            return (await run_feed(feed, publisher)).ticks_sent

    helper = threading.Thread(target=pipeline)
    helper.start()
    assert asyncio.run(replay()) == 12
    helper.join()
    assert sent_when_applied == [1]
    assert len(payloads) > 2
