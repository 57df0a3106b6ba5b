"""Validating strategy documents: every problem is reported at once, with the path to it."""

from __future__ import annotations

import pytest

from strategies.spec import TIMEFRAME_MS, SpecError, SpecIssue, validate_spec


def problems(doc) -> dict[str, str]:
    """Path -> message of every issue, joined with ' | ' when one path has several."""
    with pytest.raises(SpecError) as caught:
        validate_spec(doc)
    found: dict[str, str] = {}
    for issue in caught.value.errors:
        found[issue.path] = f"{found[issue.path]} | {issue.message}" if issue.path in found else issue.message
    return found


def test_minimal_document_validates(doc):
    spec = validate_spec(doc)

    assert spec.name == "SMA cross"
    assert set(spec.rules) == {"enter_long", "exit_long"}


def test_every_error_is_returned_at_once_each_with_its_path(doc):
    doc["name"] = ""
    doc["timeframe"] = "2h"
    doc["params"]["fast"] = "ten"
    doc["indicators"]["slow"]["function"] = "SMAA"
    doc["rules"]["exit_long"] = "close >"

    assert set(problems(doc)) == {"name", "timeframe", "params.fast", "indicators.slow.function", "rules.exit_long"}


def test_spec_error_lists_one_issue_per_line_as_path_colon_message(doc):
    doc["timeframe"] = "2h"
    doc["costs"] = {"commission": -1}

    with pytest.raises(SpecError) as caught:
        validate_spec(doc)

    assert str(caught.value) == (
        "timeframe: unknown timeframe '2h'; use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d\n"
        "costs.commission: must be in [0, 0.1), got -1"
    )
    assert caught.value.errors[0] == SpecIssue(
        "timeframe", "unknown timeframe '2h'; use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d"
    )
    assert isinstance(caught.value, ValueError)


def test_document_must_be_an_object():
    assert problems(["not", "an", "object"]) == {"": "expected an object, got array"}


def test_missing_required_fields_are_reported_once_each():
    assert problems({}) == {
        "name": "missing required field",
        "symbols": "missing required field",
        "timeframe": "missing required field",
        "rules": "missing required field",
    }


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda doc: doc, "timefame"),
        (lambda doc: doc["indicators"]["fast"], "param"),
        (lambda doc: doc["rules"], "enter_lnog"),
        (lambda doc: doc.setdefault("risk", {}), "stoploss"),
        (lambda doc: doc.setdefault("costs", {}), "fees"),
    ],
)
def test_unknown_fields_anywhere_are_errors(doc, where, path):
    where(doc)[path] = 1

    assert any(message.startswith(f"unknown field '{path}'") for message in problems(doc).values())


def test_typo_in_a_field_name_suggests_the_right_one(doc):
    doc["timefame"] = doc.pop("timeframe")

    assert problems(doc)["timefame"] == "unknown field 'timefame'; did you mean 'timeframe'?"


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda doc: doc, "$gt"),
        (lambda doc: doc["params"], "params.$gt"),
        (lambda doc: doc["indicators"], "indicators.$gt"),
        (lambda doc: doc["rules"], "rules.$gt"),
        (lambda doc: doc.setdefault("risk", {}), "risk.$gt"),
        (lambda doc: doc.setdefault("sizing", {"mode": "fixed_units", "value": 1}), "sizing.$gt"),
        (lambda doc: doc.setdefault("costs", {}), "costs.$gt"),
    ],
)
def test_mongodb_operator_keys_are_rejected_as_unknown_fields(doc, where, path):
    where(doc)["$gt"] = 1

    assert problems(doc)[path] == "unknown field '$gt'"


def test_mongodb_operator_keys_inside_indicator_params_and_inputs_are_rejected(doc):
    doc["indicators"]["fast"]["params"]["$where"] = 1
    doc["indicators"]["fast"]["inputs"] = {"$ne": "close"}

    found = problems(doc)
    assert found["indicators.fast.params.$where"].startswith("unknown parameter '$where'")
    assert found["indicators.fast.inputs.$ne"].startswith("unknown input '$ne'")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", 42, "expected a string, got number"),
        ("name", "  ", "must not be empty"),
        ("name", "x" * 101, "must be at most 100 characters, got 101"),
        ("description", ["a"], "expected a string, got array"),
        ("symbols", "BTCUSDT", "expected an array of strings, got string"),
        ("symbols", [], "needs at least one symbol"),
        ("timeframe", "2h", "unknown timeframe '2h'; use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d"),
        ("timeframe", None, "expected a string, got null"),
        ("params", [1, 2], "expected an object, got array"),
        ("indicators", "fast", "expected an object, got string"),
        ("rules", "crosses_above(fast, slow)", "expected an object, got string"),
        ("allow_reversal", "yes", "expected true or false, got string"),
        ("allow_reversal", 1, "expected true or false, got number"),
    ],
)
def test_wrong_types_and_values_say_what_was_expected(doc, field, value, message):
    doc[field] = value

    assert problems(doc)[field] == message


def test_symbols_are_upper_cased_and_checked(doc):
    doc["symbols"] = ["btcusdt", "eth-usd", "BTC/USDT", "BTCUSDT", "", 7]

    assert validate_spec({**doc, "symbols": ["btcusdt", "eth-usd"]}).symbols == ("BTCUSDT", "ETH-USD")
    assert problems(doc) == {
        "symbols[2]": "invalid symbol 'BTC/USDT': use 1 to 30 of A-Z, 0-9, '.', '_', '-'",
        "symbols[3]": "duplicate symbol 'BTCUSDT'",
        "symbols[4]": "must not be empty",
        "symbols[5]": "expected a string, got number",
    }


def test_every_listed_timeframe_is_accepted(doc):
    for timeframe in TIMEFRAME_MS:
        assert validate_spec({**doc, "timeframe": timeframe}).timeframe == timeframe
    assert {tf: ms // 1000 for tf, ms in TIMEFRAME_MS.items()} == {
        "1m": 60,
        "5m": 300,
        "15m": 900,
        "30m": 1800,
        "1h": 3600,
        "4h": 14400,
        "1d": 86400,
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("fast", True, "expected a number, got boolean"),
        ("fast", "10", "expected a number, got string"),
        ("fast", float("nan"), "must be a finite number"),
        ("fast", float("inf"), "must be a finite number"),
        ("fast", 10**400, "must be a finite number"),
    ],
)
def test_params_must_be_finite_numbers(doc, name, value, message):
    doc["params"][name] = value

    assert problems(doc)[f"params.{name}"] == message


@pytest.mark.parametrize("name", ["1fast", "fast-ma", "fast.ma", "x" * 65])
def test_param_and_indicator_names_must_be_identifiers(doc, name):
    doc["params"][name] = 1
    doc["indicators"][name] = {"function": "SMA"}

    found = problems(doc)
    assert found[f"params.{name}"].startswith(f"invalid parameter name '{name}'")
    assert found[f"indicators.{name}"].startswith(f"invalid indicator name '{name}'")


def test_unknown_param_reference_in_an_indicator_is_an_error(doc):
    doc["indicators"]["fast"]["params"]["timeperiod"] = "$fats"

    assert problems(doc) == {"indicators.fast.params.timeperiod": "unknown parameter $fats; did you mean 'fast'?"}


def test_an_invalid_param_is_reported_once_not_again_where_it_is_used(doc):
    doc["params"]["fast"] = "ten"

    assert problems(doc) == {"params.fast": "expected a number, got string"}


def test_param_values_must_be_numbers_or_references(doc):
    doc["indicators"]["fast"]["params"]["timeperiod"] = "ten"

    assert problems(doc) == {
        "indicators.fast.params.timeperiod": "expected a number or a \"$param\" reference, got 'ten'"
    }


def test_unknown_talib_function_is_an_error_with_a_suggestion(doc):
    doc["indicators"]["fast"]["function"] = "SMAA"

    assert problems(doc) == {"indicators.fast.function": "unknown TA-Lib function 'SMAA'; did you mean 'SMA'?"}


def test_function_names_are_case_insensitive_and_stored_upper_case(doc):
    doc["indicators"]["fast"]["function"] = "sma"

    assert validate_spec(doc).indicators["fast"].function == "SMA"


def test_unknown_talib_param_name_is_an_error_naming_the_accepted_ones(doc):
    doc["indicators"]["fast"]["params"] = {"period": 10}
    doc["indicators"]["macd"] = {"function": "MACD", "params": {"fastperoid": 12}}
    doc["indicators"]["obv"] = {"function": "OBV", "params": {"timeperiod": 12}}

    assert problems(doc) == {
        "indicators.fast.params.period": "unknown parameter 'period'; did you mean 'timeperiod'?",
        "indicators.macd.params.fastperoid": "unknown parameter 'fastperoid'; did you mean 'fastperiod'?",
        "indicators.obv.params.timeperiod": "unknown parameter 'timeperiod'; OBV takes: no parameters",
    }


def test_integer_talib_params_must_be_whole_numbers_including_through_a_reference(doc):
    doc["params"]["fast"] = 10.5
    doc["indicators"]["slow"]["params"]["timeperiod"] = 20.5

    assert problems(doc) == {
        "indicators.fast.params.timeperiod": "must be a whole number, got $fast = 10.5",
        "indicators.slow.params.timeperiod": "must be a whole number, got 20.5",
    }


def test_real_talib_params_accept_integers(doc):
    doc["indicators"]["bb"] = {"function": "BBANDS", "params": {"nbdevup": 2, "nbdevdn": 1.5}}

    assert validate_spec(doc).indicators["bb"].params["nbdevup"] == 2


def test_param_values_talib_rejects_are_errors(doc):
    doc["params"]["slow"] = 0

    assert problems(doc) == {"indicators.slow.params": "TA-Lib rejects SMA with timeperiod=0"}


@pytest.mark.parametrize("name", ["close", "Volume", "and", "not", "crosses_above", "max"])
def test_indicator_names_cannot_clash_with_price_series_or_rule_words(doc, name):
    doc["indicators"][name] = {"function": "SMA"}

    assert problems(doc) == {f"indicators.{name}": f"'{name}' is reserved: it means something else in rules"}


def test_indicator_needs_a_function(doc):
    doc["indicators"]["fast"] = {"params": {"timeperiod": 3}}

    assert problems(doc) == {"indicators.fast.function": "missing required field"}


def test_inputs_can_be_remapped_to_another_price_series_with_either_talib_spelling(doc):
    doc["indicators"]["fast"]["inputs"] = {"real": "high"}
    doc["indicators"]["slow"]["inputs"] = {"price": "low"}

    spec = validate_spec(doc)
    assert dict(spec.indicators["fast"].inputs) == {"real": "high"}
    assert dict(spec.indicators["slow"].inputs) == {"real": "low"}


def test_inputs_left_out_use_talibs_defaults(doc):
    doc["indicators"]["atr"] = {"function": "ATR", "inputs": {"close": "open"}}

    assert dict(validate_spec(doc).indicators["atr"].inputs) == {"high": "high", "low": "low", "close": "open"}


def test_inputs_can_read_another_indicators_output(doc):
    doc["indicators"]["rsi_avg"] = {"function": "SMA", "params": {"timeperiod": 5}, "inputs": {"real": "rsi"}}
    doc["indicators"]["rsi"] = {"function": "RSI"}
    doc["indicators"]["signal_avg"] = {"function": "EMA", "inputs": {"real": "macd.macdsignal"}}
    doc["indicators"]["macd"] = {"function": "MACD"}

    spec = validate_spec(doc)
    order = list(spec.indicators)
    assert order.index("rsi") < order.index("rsi_avg")
    assert order.index("macd") < order.index("signal_avg")
    assert order.index("fast") < order.index("slow")  # document order is kept where dependencies allow


def test_input_errors_unknown_input_unknown_series_and_duplicate_spellings(doc):
    doc["indicators"]["fast"]["inputs"] = {"prices": "close"}
    doc["indicators"]["slow"]["inputs"] = {"real": "clsoe"}
    doc["indicators"]["other"] = {"function": "SMA", "inputs": {"real": "high", "price": "low"}}

    assert problems(doc) == {
        "indicators.fast.inputs.prices": "unknown input 'prices'; SMA reads: real",
        "indicators.slow.inputs.real": "unknown series 'clsoe'; did you mean 'close'?",
        "indicators.other.inputs.price": "input 'real' is given twice",
    }


def test_inputs_without_a_talib_default_must_be_mapped(doc):
    doc["indicators"]["mavp"] = {"function": "MAVP"}

    assert problems(doc) == {
        "indicators.mavp.inputs": "MAVP needs input 'periods' mapped to a series; TA-Lib has no default"
    }


def test_cycles_in_indicator_inputs_are_errors(doc):
    doc["indicators"]["a"] = {"function": "SMA", "inputs": {"real": "b"}}
    doc["indicators"]["b"] = {"function": "EMA", "inputs": {"real": "a"}}
    doc["indicators"]["self_ref"] = {"function": "EMA", "inputs": {"real": "self_ref"}}

    assert problems(doc) == {
        "indicators.a.inputs": "inputs form a cycle: a -> b -> a",
        "indicators.self_ref.inputs": "inputs form a cycle: self_ref -> self_ref",
    }


def test_multi_output_indicators_are_addressed_as_name_dot_output(doc):
    doc["indicators"]["macd"] = {"function": "MACD"}
    doc["rules"]["enter_long"] = "crosses_above(macd.macd, macd.macdsignal) and macd.macdhist > 0"

    assert validate_spec(doc).indicators["macd"].series == ("macd.macd", "macd.macdsignal", "macd.macdhist")


def test_bare_name_of_a_multi_output_indicator_is_an_error_listing_its_outputs(doc):
    doc["indicators"]["bb"] = {"function": "BBANDS"}
    doc["rules"]["enter_long"] = "close > bb"

    assert problems(doc) == {
        "rules.enter_long": "'bb' has several outputs at column 9; "
        "use one of bb.upperband, bb.middleband, bb.lowerband\n"
        "  close > bb\n"
        "          ^"
    }


def test_output_suffix_on_a_single_output_indicator_or_an_unknown_output_is_an_error(doc):
    doc["indicators"]["bb"] = {"function": "BBANDS"}
    doc["rules"]["enter_long"] = "fast.real > bb.upper"

    message = problems(doc)["rules.enter_long"]
    assert "'fast' has a single output at column 1; refer to it as 'fast'" in message
    assert "'bb' has no output 'upper' at column 13; use one of bb.upperband, bb.middleband, bb.lowerband" in message


def test_unknown_identifier_in_a_rule_is_an_error_pointing_at_it(doc):
    doc["rules"]["enter_long"] = "crosses_above(fast, slwo)"

    assert problems(doc) == {
        "rules.enter_long": "unknown series 'slwo' at column 21; did you mean 'slow'?\n"
        "  crosses_above(fast, slwo)\n"
        "                      ^"
    }


def test_unknown_param_in_a_rule_is_an_error_pointing_at_it(doc):
    doc["rules"]["enter_long"] = "fast > slow * $ratio"

    assert problems(doc)["rules.enter_long"].startswith(
        "unknown parameter $ratio at column 15; declared params: fast, slow"
    )


def test_each_unknown_reference_in_a_rule_is_reported_in_text_order(doc):
    doc["rules"]["enter_long"] = "b > $x and a > 1"

    issues = problems(doc)["rules.enter_long"].split(" | ")
    assert [issue.splitlines()[0].split(" at ")[0] for issue in issues] == [
        "unknown series 'b'",
        "unknown parameter $x",
        "unknown series 'a'",
    ]


def test_rule_syntax_errors_are_reported_under_the_rule_path(doc):
    doc["rules"]["exit_long"] = "fast <"

    assert problems(doc) == {"rules.exit_long": "unexpected end of rule at column 7\n  fast <\n        ^"}


def test_rules_use_price_series_directly(doc):
    doc["rules"]["enter_long"] = "close > open and volume > volume[1] and high - low > 1"

    validate_spec(doc)


def test_at_least_one_entry_rule_is_required(doc):
    doc["rules"] = {}

    assert problems(doc) == {"rules": "needs at least one entry rule: enter_long or enter_short"}


def test_an_exit_rule_without_its_entry_rule_is_an_error(doc):
    doc["rules"]["exit_short"] = "close > fast"

    assert problems(doc) == {"rules.exit_short": "there is no enter_short rule, so nothing to exit"}


def test_rules_must_be_strings(doc):
    doc["rules"]["exit_long"] = ["close > fast"]

    assert problems(doc) == {"rules.exit_long": "expected a string, got array"}


def test_risk_accepts_fractions_and_atr_multiples_with_param_references(doc):
    doc["params"]["stop"] = 0.02
    doc["indicators"]["atr"] = {"function": "ATR"}
    doc["risk"] = {
        "stop_loss": {"fraction": "$stop"},
        "take_profit": {"atr": "atr", "multiple": 3},
        "trailing_stop": {"fraction": 0.05},
    }

    risk = validate_spec(doc).risk
    assert (risk.stop_loss.fraction, risk.take_profit.atr, risk.take_profit.multiple) == ("$stop", "atr", 3)


@pytest.mark.parametrize(
    ("risk", "path", "message"),
    [
        ({"stop_loss": {"fraction": 1.5}}, "risk.stop_loss.fraction", "must be in (0, 1), got 1.5"),
        ({"trailing_stop": {"fraction": 0}}, "risk.trailing_stop.fraction", "must be in (0, 1), got 0"),
        ({"take_profit": {"fraction": -0.1}}, "risk.take_profit.fraction", "must be greater than 0, got -0.1"),
        ({"stop_loss": {"fraction": "$big"}}, "risk.stop_loss.fraction", "must be in (0, 1), got $big = 2"),
        (
            {"stop_loss": {}},
            "risk.stop_loss",
            'give either {"fraction": 0.02} or {"atr": "<indicator>", "multiple": 2}',
        ),
        (
            {"stop_loss": {"fraction": 0.1, "atr": "atr"}},
            "risk.stop_loss",
            "give either fraction, or atr and multiple, not both",
        ),
        ({"stop_loss": {"atr": "atr"}}, "risk.stop_loss.multiple", "missing required field"),
        ({"stop_loss": {"atr": "atr", "multiple": 0}}, "risk.stop_loss.multiple", "must be greater than 0, got 0"),
        (
            {"stop_loss": {"atr": "atrr", "multiple": 2}},
            "risk.stop_loss.atr",
            "unknown series 'atrr'; did you mean 'atr'?",
        ),
        (
            {"stop_loss": {"atr": "close", "multiple": 2}},
            "risk.stop_loss.atr",
            "'close' is a price, not an indicator; name one measured in price units, like ATR",
        ),
        ({"stop_loss": 0.02}, "risk.stop_loss", "expected an object, got number"),
    ],
)
def test_malformed_or_out_of_range_risk_entries_are_errors(doc, risk, path, message):
    doc["params"]["big"] = 2
    doc["indicators"]["atr"] = {"function": "ATR"}
    doc["risk"] = risk

    assert problems(doc) == {path: message}


def test_sizing_defaults_to_all_equity(doc):
    sizing = validate_spec(doc).sizing

    assert (sizing.mode, sizing.value) == ("fraction_of_equity", 1.0)


@pytest.mark.parametrize(
    ("sizing", "path", "message"),
    [
        ({"mode": "fraction_of_equity", "value": 1.5}, "sizing.value", "must be in (0, 1], got 1.5"),
        ({"mode": "fraction_of_equity", "value": 0}, "sizing.value", "must be in (0, 1], got 0"),
        ({"mode": "fixed_units", "value": -2}, "sizing.value", "must be greater than 0, got -2"),
        (
            {"mode": "all_in", "value": 1},
            "sizing.mode",
            "unknown mode 'all_in'; use one of fraction_of_equity, fixed_units, risk_per_trade",
        ),
        ({"mode": "fixed_units"}, "sizing.value", "missing required field"),
        (
            {"mode": "risk_per_trade", "value": 0.01},
            "sizing.mode",
            "risk_per_trade needs risk.stop_loss: it sizes positions by the distance to the stop",
        ),
    ],
)
def test_sizing_value_must_fit_its_mode(doc, sizing, path, message):
    doc["sizing"] = sizing

    assert problems(doc) == {path: message}


def test_sizing_without_a_mode_sizes_all_of_equity_so_a_step_alone_is_enough(doc):
    doc["sizing"] = {"step": 0.00001}
    sizing = validate_spec(doc).sizing

    assert (sizing.mode, sizing.value, sizing.step) == ("fraction_of_equity", 1.0, 0.00001)


def test_a_step_map_gives_each_symbol_its_own_step_and_star_the_others(doc):
    doc["sizing"] = {"step": {"btcusdt": 0.00001, "ETHUSDT": 0.0001, "*": 1}, "min_qty": {"BTCUSDT": 0.0001}}
    sizing = validate_spec(doc).sizing

    assert dict(sizing.step) == {"BTCUSDT": 0.00001, "ETHUSDT": 0.0001, "*": 1}
    assert float(sizing.quantity_rules("BTCUSDT").step) == 0.00001
    assert float(sizing.quantity_rules("BTCUSDT").min_qty) == 0.0001
    assert float(sizing.quantity_rules("SOLUSDT").step) == 1
    assert sizing.quantity_rules("SOLUSDT").min_qty == 0


def test_without_a_star_entry_a_symbol_the_map_does_not_name_trades_whole_units(doc):
    doc["sizing"] = {"step": {"BTCUSDT": 0.001}, "min_notional": {"BTCUSDT": 5}}
    rules = validate_spec(doc).sizing.quantity_rules("ETHUSDT")

    assert (rules.step, rules.min_qty, rules.min_notional) == (1, 0, 0)


@pytest.mark.parametrize(
    ("sizing", "path", "message"),
    [
        ({"step": 0}, "sizing.step", "must be greater than 0, got 0"),
        ({"step": -0.01}, "sizing.step", "must be greater than 0, got -0.01"),
        ({"step": float("inf")}, "sizing.step", "must be a finite number"),
        ({"step": float("nan")}, "sizing.step", "must be a finite number"),
        ({"step": "0.001"}, "sizing.step", "expected a number or an object of symbol -> number, got string"),
        ({"step": [0.001]}, "sizing.step", "expected a number or an object of symbol -> number, got array"),
        ({"step": True}, "sizing.step", "expected a number or an object of symbol -> number, got boolean"),
        ({"step": {}}, "sizing.step", 'needs at least one symbol, or "*" for every symbol'),
        ({"step": {"BTCUSDT": 0}}, "sizing.step.BTCUSDT", "must be greater than 0, got 0"),
        ({"step": {"BTCUSDT": "tiny"}}, "sizing.step.BTCUSDT", "expected a number, got string"),
        ({"step": {"BTCUSDT": None}}, "sizing.step.BTCUSDT", "expected a number, got null"),
        (
            {"step": {"BTC/USDT": 0.001}},
            "sizing.step.BTC/USDT",
            'invalid symbol \'BTC/USDT\': use 1 to 30 of A-Z, 0-9, ".", "_", "-", or "*" for every other symbol',
        ),
        ({"step": {"btcusdt": 0.1, "BTCUSDT": 0.1}}, "sizing.step.BTCUSDT", "duplicate symbol 'BTCUSDT'"),
        ({"step": 1 / 3}, "sizing.step", "must have at most 12 decimal places, got 0.3333333333333333"),
        ({"min_qty": -1}, "sizing.min_qty", "must be at least 0, got -1"),
        ({"min_notional": float("inf")}, "sizing.min_notional", "must be a finite number"),
        ({"min_notional": {"BTCUSDT": -5}}, "sizing.min_notional.BTCUSDT", "must be at least 0, got -5"),
        ({"step": 0.001, "min_qty": 0.0015}, "sizing.min_qty", "0.0015 is not a multiple of the step 0.001"),
        (
            {"step": {"BTCUSDT": 0.00001}, "min_qty": {"BTCUSDT": 0.000015}},
            "sizing.min_qty.BTCUSDT",
            "0.000015 is not a multiple of the step 0.00001 for BTCUSDT",
        ),
        (
            {"step": {"BTCUSDT": 0.00001, "*": 1}, "min_qty": 0.0001},
            "sizing.min_qty",
            "0.0001 is not a multiple of the step 1 for every other symbol",
        ),
        ({"step": 0.001, "bogus": 1}, "sizing.bogus", "unknown field 'bogus'"),
    ],
)
def test_a_bad_step_or_minimum_is_an_error_naming_its_field(doc, sizing, path, message):
    doc["sizing"] = sizing

    assert problems(doc) == {path: message}


def test_a_min_qty_on_its_step_is_accepted_however_the_float_rounds(doc):
    doc["sizing"] = {"step": 0.1, "min_qty": 0.3}  # 0.3 % 0.1 is 0.0999... in binary floats

    assert float(validate_spec(doc).sizing.quantity_rules("BTCUSDT").min_qty) == 0.3


def test_the_market_limits_round_trip_through_the_normalised_form(doc):
    doc["sizing"] = {"step": {"BTCUSDT": 0.00001, "*": 1}, "min_qty": {"BTCUSDT": 0.00001}, "min_notional": {"*": 5}}
    spec = validate_spec(doc)

    assert spec.to_dict()["sizing"] == {
        "mode": "fraction_of_equity",
        "value": 1.0,
        "step": {"BTCUSDT": 0.00001, "*": 1},
        "min_qty": {"BTCUSDT": 0.00001},
        "min_notional": {"*": 5},
    }
    assert validate_spec(spec.to_dict()) == spec


def test_risk_per_trade_is_accepted_with_a_stop_loss(doc):
    doc["risk"] = {"stop_loss": {"fraction": 0.02}}
    doc["sizing"] = {"mode": "risk_per_trade", "value": 0.01}

    assert validate_spec(doc).sizing.mode == "risk_per_trade"


def test_an_invalid_stop_loss_does_not_also_make_risk_per_trade_complain(doc):
    doc["risk"] = {"stop_loss": {"fraction": 2}}
    doc["sizing"] = {"mode": "risk_per_trade", "value": 0.01}

    assert set(problems(doc)) == {"risk.stop_loss.fraction"}


@pytest.mark.parametrize(
    ("costs", "path", "message"),
    [
        ({"commission": 0.1}, "costs.commission", "must be in [0, 0.1), got 0.1"),
        ({"commission": -0.001}, "costs.commission", "must be in [0, 0.1), got -0.001"),
        ({"slippage": "1bp"}, "costs.slippage", "expected a number, got string"),
    ],
)
def test_costs_must_be_small_non_negative_fractions(doc, costs, path, message):
    doc["costs"] = costs

    assert problems(doc) == {path: message}


def test_costs_default_to_zero_and_reversal_to_off(doc):
    spec = validate_spec(doc)

    assert (spec.costs.commission, spec.costs.slippage, spec.allow_reversal) == (0.0, 0.0, False)


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "escape \x1b[2J"])
def test_a_name_with_control_characters_is_refused_so_it_cannot_rewrite_a_terminal(doc, name):
    with pytest.raises(SpecError) as caught:
        validate_spec({**doc, "name": name})
    assert any(issue.path == "name" and "printable" in issue.message for issue in caught.value.errors)


def test_descriptions_and_rules_may_span_lines(doc):
    spec = validate_spec(
        {**doc, "description": "Line one.\nLine two.", "rules": {**doc["rules"], "enter_long": "close >\n  open"}}
    )
    assert spec.description == "Line one.\nLine two."


def test_risk_limits_are_optional_plain_numbers_kept_in_the_normalised_form(doc):
    limits = {"max_position_notional": 5_000, "max_daily_loss": 0.05, "max_orders_per_minute": 10}
    spec = validate_spec({**doc, "risk": {"limits": limits}})
    assert spec.risk.limits.max_daily_loss == 0.05 and spec.risk.limits.max_drawdown is None
    assert spec.to_dict()["risk"] == {"limits": limits}
    assert "limits" not in validate_spec(doc).to_dict()["risk"]


def test_each_bad_risk_limit_is_reported_at_its_path_with_the_reason(doc):
    limits = {
        "max_position_notional": 0,
        "max_total_exposure": "$cap",
        "max_daily_loss": 1,
        "max_drawdown": -0.1,
        "max_orders_per_minute": 2.5,
        "max_loss": 0.1,
    }
    assert problems({**doc, "risk": {"limits": limits}}) == {
        "risk.limits.max_position_notional": "must be greater than 0, got 0",
        "risk.limits.max_total_exposure": "expected a plain number, got '$cap': limits take no $param references",
        "risk.limits.max_daily_loss": "must be in (0, 1), got 1",
        "risk.limits.max_drawdown": "must be in (0, 1), got -0.1",
        "risk.limits.max_orders_per_minute": "must be a whole number, got 2.5",
        "risk.limits.max_loss": "unknown field 'max_loss'; did you mean 'max_daily_loss'?",
    }
    assert problems({**doc, "risk": {"limits": [0.05]}}) == {"risk.limits": "expected an object, got array"}
