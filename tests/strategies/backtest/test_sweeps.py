"""Parameter sweeps: ``run_many`` shares indicators and rules between parameter sets, and changes no result."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from strategies import spec as spec_module
from strategies.backtest import SeriesCache, run_backtest, run_many
from strategies.examples import EXAMPLES, load_example
from strategies.indicators import compute_indicators
from strategies.signals import compute_signals
from strategies.spec import SpecError, validate_spec
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


SWEPT_DOC = {
    **load_example("sma_cross"),
    "params": {"fast": 10, "slow": 20, "width": 2.0, "stop": 0.02, "units": 1, "floor": 0},
    "indicators": {
        "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
        "slow": {"function": "SMA", "params": {"timeperiod": "$slow"}},
        "bands": {"function": "BBANDS", "params": {"timeperiod": "$fast", "nbdevup": "$width"}},
    },
    "rules": {"enter_long": "crosses_above(fast, slow) and close > $floor", "exit_long": "crosses_below(fast, slow)"},
    "risk": {"stop_loss": {"fraction": "$stop"}},
    "sizing": {"mode": "fixed_units", "value": "$units"},
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"fast": 5, "slow": 40},
        {"fast": 10.0},  # the same value, written as a float
        {"fast": 1},  # TA-Lib's SMA needs 2 bars at least
        {"fast": 2.5},  # TA-Lib wants a whole number
        {"slow": 100_001},  # beyond TA-Lib's limit
        {"fast": 2**63},  # beyond a C int
        {"width": 0.5},
        {"width": -1e40},
        {"floor": -7.5},  # rules take any number
        {"stop": 0.05},
        {"stop": 1.5},  # a stop fraction must be below 1
        {"units": 0.5},
        {"units": 0},
        {"fast": 5, "stop": 2},
        {"fast": "5"},
    ],
)
def test_with_params_accepts_and_refuses_exactly_what_validation_does(overrides):
    spec = validate_spec(SWEPT_DOC)
    try:
        expected = validate_spec({**spec.to_dict(), "params": {**spec.params, **overrides}})
    except SpecError as exc:
        with pytest.raises(SpecError) as caught:
            spec.with_params(overrides)
        assert caught.value.errors == exc.errors
    else:
        assert spec.with_params(overrides) == expected


def test_changing_params_only_indicators_read_skips_full_validation(monkeypatch):
    """What a sweep over indicator periods does for every set: it must stay cheaper than the backtest."""
    spec = validate_spec(SWEPT_DOC)
    monkeypatch.setattr(spec_module, "read_spec", lambda doc: pytest.fail("validated the whole spec again"))
    assert spec.with_params({"fast": 7, "slow": 50, "width": 1.5, "floor": 3}).resolved_params()["slow"] == 50
