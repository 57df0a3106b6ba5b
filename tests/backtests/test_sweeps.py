"""Parameter sweeps: ``run_many`` shares indicators and rules between parameter sets, and changes no result."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from strategies.backtest import SeriesCache, run_backtest, run_many
from strategies.examples import EXAMPLES, load_example
from strategies.indicators import compute_indicators
from strategies.signals import compute_signals
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

SMA_GRID = [{"fast": fast, "slow": slow} for fast in range(5, 55, 5) for slow in range(20, 220, 20) if fast < slow]


def test_run_many_gives_each_parameter_set_what_run_backtest_gives():
    spec = validate_spec(load_example("sma_cross"))
    candles = generate_candles(2000, "1d", seed=2)
    sets = [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 40}, {"fast": 20, "slow": 40}]
    for params, result in zip(sets, run_many(spec, candles, sets), strict=True):
        single = run_backtest(spec, candles, params=params)
        assert result.params == single.params == {**spec.params, **params}
        assert list(result.trades) == list(single.trades)
        np.testing.assert_array_equal(result.equity, single.equity)
        np.testing.assert_equal(result.stats, single.stats)


def test_a_sweep_computes_each_distinct_indicator_once(monkeypatch):
    periods = []
    sma = talib.SMA
    monkeypatch.setattr(talib, "SMA", lambda real, timeperiod: periods.append(timeperiod) or sma(real, timeperiod))
    spec = validate_spec(load_example("sma_cross"))
    results = run_many(spec, generate_candles(500, "1d", seed=2), SMA_GRID)
    assert len(results) == 90
    assert sorted(periods) == sorted({*range(5, 55, 5), *range(20, 220, 20)})  # SMA(20) and SMA(40) serve both sides


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_cache_computes_what_compute_indicators_and_compute_signals_compute(name):
    spec = validate_spec(load_example(name))
    candles = generate_candles(1500, spec.timeframe, seed=6)
    cache = SeriesCache(candles)
    indicators, keys = cache.indicators(spec)
    expected = compute_indicators(spec, candles.ohlcv())
    np.testing.assert_equal(indicators, expected)
    series = {**candles.ohlcv(), **expected}
    np.testing.assert_equal(cache.signals(spec, series, keys), compute_signals(spec, series))
