"""The validated StrategySpec: normalised documents, param overrides and warm-up."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from strategies.examples import EXAMPLES, load_example
from strategies.indicators import compute_indicators
from strategies.spec import FractionDistance, SpecError, resolve_value, validate_spec


def test_to_dict_fills_in_defaults_and_round_trips_through_validation(doc):
    spec = validate_spec(doc)
    normalised = spec.to_dict()

    assert validate_spec(normalised) == spec
    assert validate_spec(normalised).to_dict() == normalised
    assert normalised["sizing"] == {
        "mode": "fraction_of_equity",
        "value": 1.0,
        "step": 1,
        "min_qty": 0,
        "min_notional": 0,
    }
    assert normalised["costs"] == {"commission": 0.0, "slippage": 0.0}
    assert normalised["risk"] == {}
    assert normalised["allow_reversal"] is False
    assert normalised["indicators"]["fast"] == {
        "function": "SMA",
        "params": {"timeperiod": "$fast"},
        "inputs": {"real": "close"},
    }


@pytest.mark.parametrize("name", EXAMPLES)
def test_to_dict_of_every_example_is_json_and_round_trips(name):
    spec = validate_spec(load_example(name))
    normalised = json.loads(json.dumps(spec.to_dict()))

    assert validate_spec(normalised) == spec


def test_to_dict_keeps_the_description_only_when_given(doc):
    assert "description" not in validate_spec(doc).to_dict()
    assert validate_spec({**doc, "description": "why"}).to_dict()["description"] == "why"


def test_spec_is_immutable(doc):
    spec = validate_spec(doc)

    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.params["fast"] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        spec.indicators["fast"].params["timeperiod"] = 3  # type: ignore[index]


def test_with_params_returns_a_new_validated_spec_and_leaves_the_original_alone(doc):
    spec = validate_spec(doc)
    faster = spec.with_params({"fast": 5})

    assert faster.params == {"fast": 5, "slow": 20}
    assert spec.params == {"fast": 10, "slow": 20}
    assert faster.rules == spec.rules


def test_with_params_rejects_unknown_names(doc):
    with pytest.raises(SpecError) as caught:
        validate_spec(doc).with_params({"fats": 5})

    assert [str(issue) for issue in caught.value.errors] == ["params.fats: unknown parameter; did you mean 'fast'?"]


def test_with_params_rejects_values_that_break_the_spec(doc):
    with pytest.raises(SpecError) as caught:
        validate_spec(doc).with_params({"fast": 2.5, "slow": "x"})

    assert [issue.path for issue in caught.value.errors] == ["params.slow"]
    with pytest.raises(SpecError, match=r"must be a whole number, got \$fast = 2\.5"):
        validate_spec(doc).with_params({"fast": 2.5})


def test_resolved_params_applies_overrides_to_the_defaults(doc):
    spec = validate_spec(doc)

    assert spec.resolved_params() == {"fast": 10, "slow": 20}
    assert spec.resolved_params({"slow": 50}) == {"fast": 10, "slow": 50}
    with pytest.raises(SpecError, match=r"params\.nope: unknown parameter"):
        spec.resolved_params({"nope": 1})


def test_resolve_value_reads_references_and_passes_numbers_through():
    assert resolve_value("$stop", {"stop": 0.02}) == 0.02
    assert resolve_value(0.03, {"stop": 0.02}) == 0.03


def test_distances_keep_param_references_so_overrides_apply(doc):
    doc["params"]["stop"] = 0.02
    doc["risk"] = {"stop_loss": {"fraction": "$stop"}}
    spec = validate_spec(doc).with_params({"stop": 0.04})

    assert spec.risk.stop_loss == FractionDistance("$stop")
    assert resolve_value(spec.risk.stop_loss.fraction, spec.resolved_params()) == 0.04


def test_lookbacks_add_up_along_chained_indicators(doc):
    doc["indicators"]["rsi"] = {"function": "RSI", "params": {"timeperiod": 14}}
    doc["indicators"]["rsi_avg"] = {"function": "SMA", "params": {"timeperiod": 5}, "inputs": {"real": "rsi"}}

    lookbacks = validate_spec(doc).lookbacks()
    assert (lookbacks["close"], lookbacks["fast"], lookbacks["rsi"], lookbacks["rsi_avg"]) == (0, 9, 14, 18)


def test_warmup_bars_covers_the_slowest_indicator_plus_one_bar_for_a_cross(doc):
    assert validate_spec(doc).warmup_bars == 20  # SMA(20) has its first value at bar 19; the cross also needs bar 19


def test_warmup_bars_follows_param_overrides(doc):
    assert validate_spec(doc).with_params({"slow": 50}).warmup_bars == 50


def test_warmup_bars_counts_rule_offsets_on_top_of_the_series_they_shift(doc):
    doc["rules"]["exit_long"] = "slow[5] > slow"

    assert validate_spec(doc).warmup_bars == 24


def test_warmup_bars_counts_indicators_no_rule_reads(doc):
    doc["indicators"]["atr"] = {"function": "ATR", "params": {"timeperiod": 30}}

    assert validate_spec(doc).warmup_bars == 30


@pytest.mark.parametrize("name", EXAMPLES)
def test_lookbacks_are_exactly_the_leading_nans_talib_produces(name, ohlcv):
    spec = validate_spec(load_example(name))
    lookbacks = spec.lookbacks()

    for series, values in compute_indicators(spec, ohlcv).items():
        assert np.isnan(values[: lookbacks[series]]).all(), series
        assert not np.isnan(values[lookbacks[series] :]).any(), series
