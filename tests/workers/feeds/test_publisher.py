"""The batching publisher: batches by count and by time, in the live engine's format, with flow control."""

import asyncio
import time

import pytest

from strategies.domain import Tick
from workers.feeds import BatchPublisher
from workers.ticks import decode_batch


def ticks(count: int, symbol: str = "BTCUSDT") -> list[Tick]:
    return [Tick(symbol, 1_700_000_000_000 + i, 100.0 + i / 100, 0.5) for i in range(count)]


def sizes(payloads: list[dict]) -> list[int]:
    return [len(payload["s"]) for payload in payloads]


def test_full_batches_go_at_once_and_the_rest_when_its_time_is_up():
    payloads: list[dict] = []

    async def scenario() -> tuple[list[int], list[int]]:
        async with BatchPublisher(payloads.append, batch_size=500, batch_interval_s=0.3) as publisher:
            await publisher.put(ticks(1_200))
            await asyncio.sleep(0.1)
            early = sizes(payloads)
            await asyncio.sleep(0.3)
            return early, sizes(payloads)

    early, later = asyncio.run(scenario())

    assert early == [500, 500]
    assert later == [500, 500, 200]


def test_a_lone_tick_waits_no_longer_than_the_batch_interval():
    arrived: list[float] = []

    async def scenario() -> float:
        async with BatchPublisher(lambda payload: arrived.append(time.monotonic()), batch_interval_s=0.05) as publisher:
            started = time.monotonic()
            await publisher.put(ticks(1))
            await asyncio.sleep(0.2)
            return arrived[0] - started

    assert 0.04 <= asyncio.run(scenario()) < 0.1


def test_payloads_are_the_live_engines_tick_batches_in_feed_order():
    payloads: list[dict] = []
    sent = ticks(3, "BTCUSDT") + ticks(2, "ETHUSDT")

    async def scenario() -> None:
        async with BatchPublisher(payloads.append) as publisher:
            await publisher.put(sent[:2])
            await publisher.put(sent[2:])

    asyncio.run(scenario())

    assert [tick for payload in payloads for tick in decode_batch(payload).ticks()] == sent


def test_put_waits_while_a_healthy_but_slow_broker_catches_up_and_drops_nothing():
    payloads: list[dict] = []

    def slow_broker(payload: dict) -> None:
        time.sleep(0.02)
        payloads.append(payload)

    async def scenario():
        async with BatchPublisher(
            slow_broker, batch_size=100, max_queued_batches=2, max_buffered_ticks=1_000
        ) as publisher:
            started = time.monotonic()
            for _ in range(20):
                await publisher.put(ticks(100))
            return time.monotonic() - started, publisher.stats

    seconds, stats = asyncio.run(scenario())

    assert seconds >= 17 * 0.02  # held back: only two batches may queue behind the one being sent
    assert sum(sizes(payloads)) == 2_000 and stats.ticks_dropped == 0


def test_closing_publishes_what_is_left_at_once():
    payloads: list[dict] = []

    async def scenario() -> float:
        publisher = BatchPublisher(payloads.append, batch_interval_s=10)
        async with publisher:
            await publisher.put(ticks(3))
            started = time.monotonic()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5
    assert sizes(payloads) == [3]


@pytest.mark.parametrize(
    "options", [{"batch_size": 0}, {"batch_interval_s": 0}, {"batch_size": 500, "max_buffered_ticks": 1_000}]
)
def test_impossible_settings_are_refused(options):
    with pytest.raises(ValueError):
        BatchPublisher(lambda payload: None, **options)
