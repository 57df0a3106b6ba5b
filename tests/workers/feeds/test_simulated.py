"""The simulated feed: a reproducible random walk per symbol, at the rate asked for."""

import asyncio
import math
import time
from collections import Counter
from contextlib import aclosing

import pytest

from tests.workers.feeds.conftest import take
from workers.feeds import SimulatedFeed
from workers.feeds.simulated import start_price

SYMBOLS = ["BTCUSDT", "ETHUSDT", "PEPEUSDT"]
START_MS = 1_704_067_200_000


def test_the_same_seed_gives_the_same_ticks_however_they_are_grouped():
    async def run(pause_s: float) -> tuple[list, int]:
        ticks, groups = [], 0
        async with aclosing(SimulatedFeed(SYMBOLS, rate=5_000, seed=7, start_ms=START_MS).ticks()) as stream:
            async for group in stream:
                ticks.extend(group)
                groups += 1
                if len(ticks) >= 1_000:
                    return ticks[:1_000], groups
                await asyncio.sleep(pause_s)  # a slow consumer: more ticks are due at each step

    (eager, eager_groups), (slow, slow_groups) = asyncio.run(run(0)), asyncio.run(run(0.03))

    assert eager_groups > slow_groups
    assert eager == slow


def test_different_seeds_give_different_walks():
    async def scenario():
        return [await take(SimulatedFeed(SYMBOLS, rate=None, seed=seed), 200) for seed in (1, 2)]

    one, two = asyncio.run(scenario())
    assert [tick.price for tick in one] != [tick.price for tick in two]


def test_ticks_come_at_the_total_rate_stamped_evenly_and_spread_over_the_symbols():
    async def scenario():
        started = time.monotonic()
        ticks = await take(SimulatedFeed(SYMBOLS, rate=400, seed=1, start_ms=START_MS), 200)
        return ticks, time.monotonic() - started

    ticks, seconds = asyncio.run(scenario())

    assert seconds == pytest.approx(199 / 400, abs=0.15)
    assert [tick.ts for tick in ticks] == [START_MS + i * 1000 // 400 for i in range(200)]
    assert set(Counter(tick.symbol for tick in ticks)) == set(SYMBOLS)


def test_prices_start_at_plausible_levels_with_six_significant_digits_and_sizes_are_positive():
    ticks = asyncio.run(take(SimulatedFeed(SYMBOLS, rate=None, seed=3), 3_000))
    levels = {symbol: start_price(symbol) for symbol in SYMBOLS}

    assert levels["BTCUSDT"] == 60_000 and levels["ETHUSDT"] == 3_000 and 0.1 <= levels["PEPEUSDT"] <= 1_000
    for tick in ticks:
        assert tick.price == pytest.approx(levels[tick.symbol], rel=0.05)
        digits = 5 - math.floor(math.log10(levels[tick.symbol]))
        assert round(tick.price, max(digits, 0)) == tick.price
        assert tick.qty > 0


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError, match="rate"):
        SimulatedFeed(SYMBOLS, rate=0)
