"""TA-Lib's metadata as the spec sees it."""

from __future__ import annotations

import re

import talib

from strategies.talib_catalog import FUNCTION_NAMES, PRICE_SERIES, talib_function


def test_every_talib_function_is_known_by_any_case():
    assert set(FUNCTION_NAMES) == set(talib.get_functions())
    assert talib_function("sma") == talib_function("SMA")
    assert talib_function("nope") is None


def test_input_names_are_the_argument_names_of_talibs_python_functions():
    for name in FUNCTION_NAMES:
        signature = getattr(talib, name).__doc__.splitlines()[0]

        assert list(talib_function(name).inputs) == re.findall(r"ndarray (\w+)", signature), name


def test_abstract_api_input_names_are_accepted_as_aliases():
    beta = talib_function("BETA")

    assert (beta.input_name("price0"), beta.input_name("real1"), beta.input_name("prices")) == ("real0", "real1", None)


def test_default_inputs_are_price_series_or_none_where_talib_has_no_default():
    assert dict(talib_function("SMA").inputs) == {"real": "close"}
    assert dict(talib_function("MAVP").inputs) == {"real": "close", "periods": None}
    assert all(
        source in (*PRICE_SERIES, None) for name in FUNCTION_NAMES for source in talib_function(name).inputs.values()
    )


def test_integer_params_are_told_apart_from_real_ones():
    bbands = talib_function("BBANDS")

    assert bbands.wants_integer("timeperiod") and bbands.wants_integer("matype")
    assert not bbands.wants_integer("nbdevup")


def test_lookback_is_none_for_values_talib_rejects():
    sma = talib_function("SMA")

    assert sma.lookback({"timeperiod": 10}) == 9
    assert sma.lookback({"timeperiod": 0}) is None
    assert talib_function("BBANDS").lookback({"nbdevup": 2, "timeperiod": 5.0}) == 4
