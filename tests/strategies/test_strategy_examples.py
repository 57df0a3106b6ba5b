"""The example strategies shipped with the package."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from strategies.examples import EXAMPLES, load_example
from strategies.indicators import compute_indicators
from strategies.signals import compute_signals
from strategies.spec import validate_spec


def test_examples_are_the_four_documented_strategies():
    assert EXAMPLES == ["bollinger_breakout", "macd_trend_atr_stop", "rsi_mean_reversion", "sma_cross"]


def test_examples_are_read_as_package_resources():
    files = {entry.name for entry in resources.files("strategies.examples").iterdir()}

    assert {f"{name}.json" for name in EXAMPLES} <= files


def test_unknown_example_names_list_the_available_ones():
    with pytest.raises(ValueError, match="unknown example 'nope'; available: bollinger_breakout, "):
        load_example("nope")


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_validates(name):
    spec = validate_spec(load_example(name))

    assert spec.name and spec.symbols and spec.rules


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_produces_entry_and_exit_signals_on_a_random_walk(name, make_ohlcv):
    ohlcv = make_ohlcv(20_000, seed=11)
    spec = validate_spec(load_example(name))
    signals = compute_signals(spec, {**ohlcv, **compute_indicators(spec, ohlcv)})

    assert set(signals) == set(spec.rules)
    for rule, fired in signals.items():
        assert fired.shape == (20_000,) and fired.dtype == np.bool_
        assert fired.any(), f"{name}: {rule} never fires"
        assert not fired[: spec.rules[rule].warmup(spec.lookbacks())].any(), f"{name}: {rule} fires during its warm-up"


def test_examples_show_the_features_they_are_named_after():
    macd = validate_spec(load_example("macd_trend_atr_stop"))
    bollinger = validate_spec(load_example("bollinger_breakout"))
    rsi = validate_spec(load_example("rsi_mean_reversion"))

    assert macd.risk.stop_loss.atr == "atr" and macd.sizing.mode == "risk_per_trade"
    assert {"enter_long", "enter_short"} <= set(bollinger.rules) and bollinger.allow_reversal
    assert rsi.risk.stop_loss.fraction == "$stop"
    assert set(validate_spec(load_example("sma_cross")).params) == {"fast", "slow"}


@pytest.mark.parametrize("name", ["sma_cross", "bollinger_breakout"])
def test_a_live_window_of_warmup_bars_plus_one_gives_the_newest_signal_of_the_full_history(name, make_ohlcv):
    # Holds exactly for indicators over a fixed window (SMA, BBANDS); EMA-based ones need longer windows.
    ohlcv = make_ohlcv(600, seed=5)
    spec = validate_spec(load_example(name))
    full = compute_signals(spec, {**ohlcv, **compute_indicators(spec, ohlcv)})
    bars = spec.warmup_bars + 1

    for end in range(bars, 601):
        window = {series: values[end - bars : end] for series, values in ohlcv.items()}
        live = compute_signals(spec, {**window, **compute_indicators(spec, window)})
        assert {rule: fired[-1] for rule, fired in live.items()} == {
            rule: fired[end - 1] for rule, fired in full.items()
        }
