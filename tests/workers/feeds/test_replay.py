"""Replaying candles as ticks: four ticks per candle in a documented order, paced, rebuildable bit for bit."""

import asyncio
import time
from itertools import pairwise

import numpy as np
import pytest

from strategies.candles import Candles
from tests.workers.feeds.conftest import MINUTE, T0, candles, drain
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles
from workers.feeds import ReplayFeed, candle_path


def rebuild(ticks, step: int) -> dict[str, dict[int, tuple]]:
    """Candles from ticks as the live pipeline builds them: first, max, min, last price, summed quantity."""
    bars: dict[str, dict[int, list]] = {}
    for tick in ticks:
        bar = bars.setdefault(tick.symbol, {}).get(tick.ts // step * step)
        if bar is None:
            bars[tick.symbol][tick.ts // step * step] = [tick.price, tick.price, tick.price, tick.price, tick.qty]
        else:
            bar[1], bar[2], bar[3] = max(bar[1], tick.price), min(bar[2], tick.price), tick.price
            bar[4] += tick.qty
    return {symbol: {ts: tuple(bar) for ts, bar in series.items()} for symbol, series in bars.items()}


def test_a_bullish_candle_goes_open_low_high_close_and_a_bearish_one_open_high_low_close():
    bullish_then_bearish = candles((100, 110, 95, 105, 8), (105, 112, 90, 92, 16))

    ticks = asyncio.run(drain(ReplayFeed({"BTCUSDT": bullish_then_bearish}, "1m", speed=0)))

    assert [tick.price for tick in ticks] == [100, 95, 110, 105, 105, 112, 90, 92]


def test_ticks_fall_inside_their_candle_with_the_close_last_and_quantities_summing_to_the_volume():
    ts, _, qty = candle_path(candles((100, 110, 95, 105, 8)), "1m")

    assert ts.tolist() == [T0, T0 + 20_000, T0 + 40_000, T0 + MINUTE - 1]
    assert qty.tolist() == [1, 1, 2, 4]


def test_symbols_are_merged_by_time_ties_in_the_order_given():
    feed = ReplayFeed(
        {"ETHUSDT": candles((10, 11, 9, 10.5, 1)), "BTCUSDT": candles((100, 110, 95, 105, 1))}, "1m", speed=0
    )

    ticks = asyncio.run(drain(feed))

    assert [(tick.symbol, tick.ts) for tick in ticks[:4]] == [
        ("ETHUSDT", T0),
        ("BTCUSDT", T0),
        ("ETHUSDT", T0 + 20_000),
        ("BTCUSDT", T0 + 20_000),
    ]
    assert len(ticks) == 8


def test_speed_paces_ticks_by_their_timestamps():
    three_minutes = candles(*[(100, 101, 99, 100.5, 1)] * 3)  # 12 ticks over 179.999 s of market time

    async def replay(speed: float) -> list[tuple[float, int]]:
        started = time.monotonic()
        return [
            (time.monotonic() - started, tick.ts)
            async for group in ReplayFeed({"BTCUSDT": three_minutes}, "1m", speed=speed).ticks()
            for tick in group
        ]

    arrivals = asyncio.run(replay(600))  # 180 s of market in 0.3 s
    for seconds, ts in arrivals:
        assert seconds == pytest.approx((ts - T0) / 1000 / 600, abs=0.04)
    as_fast_as_possible = asyncio.run(replay(0))
    assert as_fast_as_possible[-1][0] < 0.05


def test_replaying_candles_stored_in_mongodb_rebuilds_them_bit_for_bit(db):
    stored = {
        "BTCUSDT": generate_candles(500, "5m", seed=1, start_price=40_000),
        "ETHUSDT": generate_candles(500, "5m", seed=2, start_price=2_000),
    }
    store = CandleStore(db)
    for symbol, series in stored.items():
        store.upsert(symbol, "5m", series)

    loaded = {symbol: store.load(symbol, "5m") for symbol in stored}
    ticks = asyncio.run(drain(ReplayFeed(loaded, "5m", speed=0)))

    assert len(ticks) == 2 * 500 * 4
    assert all(a.ts <= b.ts for a, b in pairwise(ticks))
    rebuilt = rebuild(ticks, 300_000)
    for symbol, series in stored.items():
        expected = dict(
            zip(
                series.ts.tolist(),
                zip(*(getattr(series, name).tolist() for name in ("open", "high", "low", "close", "volume"))),
            )
        )
        assert rebuilt[symbol] == expected  # exact float equality, volume included


def test_a_replay_needs_a_known_timeframe_and_a_symbol():
    with pytest.raises(ValueError, match="timeframe"):
        ReplayFeed({"BTCUSDT": candles((1, 1, 1, 1, 1))}, "2m")
    with pytest.raises(ValueError, match="symbol"):
        ReplayFeed({}, "1m")


def test_an_empty_series_replays_nothing():
    assert asyncio.run(drain(ReplayFeed({"BTCUSDT": Candles.empty()}, "1m", speed=0))) == []
    assert np.array_equal(candle_path(Candles.empty(), "1m")[0], [])
