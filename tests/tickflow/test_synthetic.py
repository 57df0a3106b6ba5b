"""The synthetic candle generator: reproducible, consistent, plausible and fast."""

import numpy as np
import pytest

from strategies.candles import COLUMNS, TIMEFRAME_MS
from tickflow.storage.candles import validate_candles
from tickflow.synthetic import DEFAULT_START_MS, generate_candles


def test_the_same_seed_gives_the_same_candles_bit_for_bit():
    one, two = generate_candles(10_000, seed=7), generate_candles(10_000, seed=7)
    for name in COLUMNS:
        assert getattr(one, name).tobytes() == getattr(two, name).tobytes()


def test_different_seeds_give_different_walks():
    assert not np.array_equal(generate_candles(100, seed=1).close, generate_candles(100, seed=2).close)


def test_a_longer_series_starts_with_the_bars_of_a_shorter_one():
    short, long = generate_candles(1000, seed=4), generate_candles(5000, seed=4)
    for name in COLUMNS:
        assert getattr(long, name)[:1000].tobytes() == getattr(short, name).tobytes()
    assert len(generate_candles(0)) == 0


@pytest.mark.parametrize("timeframe", list(TIMEFRAME_MS))
def test_bars_are_consecutive_aligned_and_pass_the_candle_store_checks(timeframe):
    candles = generate_candles(5000, timeframe, seed=3)
    step = TIMEFRAME_MS[timeframe]

    assert candles.ts[0] == DEFAULT_START_MS
    assert np.all(np.diff(candles.ts) == step)
    validate_candles(timeframe, candles)  # raises on any inconsistency


def test_ohlc_are_consistent_and_each_bar_opens_at_the_previous_close():
    candles = generate_candles(100_000, seed=11, start_price=250.0)

    assert candles.open[0] == 250.0
    assert np.array_equal(candles.open[1:], candles.close[:-1])
    assert np.all(candles.high >= np.maximum(candles.open, candles.close))
    assert np.all(candles.low <= np.minimum(candles.open, candles.close))
    assert np.all(candles.low > 0) and np.all(candles.volume > 0)


def test_the_walk_looks_like_a_market():
    candles = generate_candles(200_000, seed=0)
    returns = np.diff(np.log(candles.close))
    kurtosis = np.mean((returns - returns.mean()) ** 4) / returns.var() ** 2

    assert candles.close.min() / 100 > 0.2 and candles.close.max() / 100 < 5  # wanders, does not explode
    assert kurtosis > 4  # fat tails, unlike a Gaussian walk's 3
    assert np.corrcoef(np.abs(returns), candles.volume[1:])[0, 1] > 0.1  # busy bars trade more


def test_a_misaligned_start_or_unknown_timeframe_is_refused():
    with pytest.raises(ValueError, match="not aligned"):
        generate_candles(10, "1h", start_ms=DEFAULT_START_MS + 60_000)
    with pytest.raises(ValueError, match="unknown timeframe"):
        generate_candles(10, "2m")


def test_a_million_bars_are_consecutive_and_consistent():
    candles = generate_candles(1_000_000)
    assert len(candles) == 1_000_000
    assert (np.diff(candles.ts) == 60_000).all()
    assert (candles.high >= np.maximum(candles.open, candles.close)).all()
    assert (candles.low <= np.minimum(candles.open, candles.close)).all()
