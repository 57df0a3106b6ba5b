"""Computing indicators with TA-Lib, and signals from them."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from strategies.indicators import compute_indicators
from strategies.signals import compute_signals
from strategies.spec import SpecError, validate_spec
from strategies.talib_catalog import FUNCTION_NAMES, talib_function


def spec_with(doc, indicators, enter_long="close > open"):
    doc["indicators"] = indicators
    doc["rules"] = {"enter_long": enter_long}
    return validate_spec(doc)


def test_indicators_equal_direct_talib_calls(doc, ohlcv):
    computed = compute_indicators(validate_spec(doc), ohlcv)

    np.testing.assert_array_equal(computed["fast"], talib.SMA(ohlcv["close"], timeperiod=10))
    np.testing.assert_array_equal(computed["slow"], talib.SMA(ohlcv["close"], timeperiod=20))
    assert all(values.dtype == np.float64 for values in computed.values())


def test_multi_output_indicators_are_keyed_name_dot_output(doc, ohlcv):
    spec = spec_with(doc, {"macd": {"function": "MACD", "params": {"fastperiod": 8}}, "bb": {"function": "BBANDS"}})
    computed = compute_indicators(spec, ohlcv)

    _, signal, hist = talib.MACD(ohlcv["close"], fastperiod=8)
    lower = talib.BBANDS(ohlcv["close"])[2]
    assert set(computed) == {
        "macd.macd",
        "macd.macdsignal",
        "macd.macdhist",
        "bb.upperband",
        "bb.middleband",
        "bb.lowerband",
    }
    np.testing.assert_array_equal(computed["macd.macdsignal"], signal)
    np.testing.assert_array_equal(computed["macd.macdhist"], hist)
    np.testing.assert_array_equal(computed["bb.lowerband"], lower)


def test_price_groups_and_real_params_reach_talib(doc, ohlcv):
    spec = spec_with(
        doc,
        {
            "atr": {"function": "ATR", "params": {"timeperiod": 7}},
            "stoch": {"function": "STOCH"},
            "sar": {"function": "SAR", "params": {"acceleration": 0.03}},
        },
    )
    computed = compute_indicators(spec, ohlcv)

    high, low, close = ohlcv["high"], ohlcv["low"], ohlcv["close"]
    np.testing.assert_array_equal(computed["atr"], talib.ATR(high, low, close, timeperiod=7))
    np.testing.assert_array_equal(computed["stoch.slowd"], talib.STOCH(high, low, close)[1])
    np.testing.assert_array_equal(computed["sar"], talib.SAR(high, low, acceleration=0.03))


def test_inputs_remapped_to_another_indicator_are_computed_after_it(doc, ohlcv):
    spec = spec_with(
        doc,
        {
            "rsi_avg": {"function": "SMA", "params": {"timeperiod": 5}, "inputs": {"real": "rsi"}},
            "rsi": {"function": "RSI"},
            "vol_avg": {"function": "EMA", "params": {"timeperiod": 3}, "inputs": {"price": "volume"}},
        },
    )
    computed = compute_indicators(spec, ohlcv)

    np.testing.assert_array_equal(computed["rsi_avg"], talib.SMA(talib.RSI(ohlcv["close"]), timeperiod=5))
    np.testing.assert_array_equal(computed["vol_avg"], talib.EMA(ohlcv["volume"], timeperiod=3))


def test_params_override_the_specs_defaults(doc, ohlcv):
    computed = compute_indicators(validate_spec(doc), ohlcv, {"fast": 3})

    np.testing.assert_array_equal(computed["fast"], talib.SMA(ohlcv["close"], timeperiod=3))


def test_param_overrides_talib_would_reject_are_spec_errors(doc, ohlcv):
    with pytest.raises(SpecError, match=r"indicators\.fast\.params: TA-Lib rejects SMA with timeperiod=0"):
        compute_indicators(validate_spec(doc), ohlcv, {"fast": 0})


def test_integer_outputs_become_float_with_nan_before_the_lookback(doc, ohlcv):
    spec = spec_with(
        doc, {"doji": {"function": "CDLDOJI"}, "minmax": {"function": "MINMAXINDEX", "params": {"timeperiod": 5}}}
    )
    computed = compute_indicators(spec, ohlcv)
    lookbacks = spec.lookbacks()

    for name in ("doji", "minmax.minidx"):
        assert np.isnan(computed[name][: lookbacks[name]]).all()
        assert not np.isnan(computed[name][lookbacks[name] :]).any()
    np.testing.assert_array_equal(computed["minmax.minidx"][4:], talib.MINMAXINDEX(ohlcv["close"], 5)[0][4:])


def test_only_the_price_series_indicators_read_are_needed(doc, ohlcv):
    computed = compute_indicators(validate_spec(doc), {"close": ohlcv["close"]})

    assert set(computed) == {"fast", "slow"}


def test_a_missing_price_series_is_named(doc, ohlcv):
    spec = spec_with(doc, {"atr": {"function": "ATR"}})

    with pytest.raises(ValueError, match="indicators read the 'high' series, which was not given"):
        compute_indicators(spec, {"close": ohlcv["close"], "low": ohlcv["low"]})


def test_price_series_of_different_lengths_are_refused(doc, ohlcv):
    spec = spec_with(doc, {"atr": {"function": "ATR"}})

    with pytest.raises(ValueError, match="has 10 bars, others have"):
        compute_indicators(spec, {**ohlcv, "low": ohlcv["low"][:10]})


def test_a_window_shorter_than_the_lookback_gives_all_nan_and_no_signal(doc, ohlcv):
    spec = validate_spec(doc)
    window = {name: values[:15] for name, values in ohlcv.items()}
    computed = compute_indicators(spec, window)

    assert np.isnan(computed["slow"]).all()
    assert not compute_signals(spec, {**window, **computed})["enter_long"].any()


def test_signals_are_bool_arrays_keyed_by_rule_name(doc, ohlcv):
    spec = validate_spec(doc)
    series = {**ohlcv, **compute_indicators(spec, ohlcv)}
    signals = compute_signals(spec, series)

    fast, slow = series["fast"], series["slow"]
    expected = np.concatenate([[False], (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])])
    assert set(signals) == {"enter_long", "exit_long"}
    np.testing.assert_array_equal(signals["enter_long"], expected)
    assert signals["exit_long"].dtype == np.bool_


def test_signal_params_override_the_specs_defaults_for_rule_references(doc, ohlcv):
    doc["params"]["level"] = 100
    spec = spec_with(doc, {}, enter_long="close > $level")

    assert compute_signals(spec, ohlcv, {"level": 0})["enter_long"].all()
    assert not compute_signals(spec, ohlcv, {"level": 1e9})["enter_long"].any()


_UNDEFINED_ON_PRICES = {"ACOS", "ASIN"}  # defined on [-1, 1] only: NaN for any price above 1


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_every_talib_function_validates_and_computes_with_its_defaults(function, doc, make_ohlcv):
    ohlcv = make_ohlcv(400)
    indicator = {"function": function}
    if talib_function(function).inputs.get("periods", "close") is None:
        indicator["inputs"] = {"periods": "volume"}
    spec = spec_with(doc, {"ind": indicator})
    lookbacks = spec.lookbacks()

    computed = compute_indicators(spec, ohlcv)

    assert len(computed) == len(talib_function(function).outputs)
    for name, values in computed.items():
        assert np.isnan(values[: lookbacks[name]]).all()
        assert function in _UNDEFINED_ON_PRICES or not np.isnan(values[lookbacks[name] :]).any()
