"""Evaluating rules: vectorised semantics for NaN, crosses, offsets and arithmetic."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from strategies.rules import compile_rule

NAN = np.nan


def evaluate(text: str, params: dict[str, float] | None = None, **series: list[float]) -> list[bool]:
    arrays = {name: np.array(values, dtype=float) for name, values in series.items()}
    return compile_rule(text).evaluate(arrays, params or {}).tolist()


def test_result_is_a_bool_array_as_long_as_the_inputs():
    result = compile_rule("close > open").evaluate({"close": np.arange(5.0), "open": np.full(5, 2.0)}, {})

    assert result.dtype == np.bool_
    assert result.tolist() == [False, False, False, True, True]


def test_crosses_above_is_true_only_on_the_bar_where_a_moves_from_below_to_above():
    a = [1, 2, 3, 4, 3, 2, 3, 4]
    b = [2.5] * 8

    assert evaluate("crosses_above(a, b)", a=a, b=b) == [False, False, True, False, False, False, True, False]


def test_crosses_below_is_true_only_on_the_bar_where_a_moves_from_above_to_below():
    a = [4, 3, 2, 1, 2, 3, 2]
    b = [2.5] * 7

    assert evaluate("crosses_below(a, b)", a=a, b=b) == [False, False, True, False, False, False, True]


def test_touching_then_moving_above_is_not_a_cross_because_the_previous_bar_must_be_strictly_below():
    assert evaluate("crosses_above(a, b)", a=[1, 2, 3], b=[2, 2, 2]) == [False, False, False]


def test_crosses_accept_plain_numbers_and_params_on_either_side():
    rsi = [25, 29, 31, 35, 69, 71, 68]

    assert evaluate("crosses_above(rsi, 30)", rsi=rsi) == [False, False, True, False, False, False, False]
    assert evaluate("crosses_below(rsi, $high)", {"high": 70}, rsi=rsi) == [False] * 6 + [True]
    assert evaluate("crosses_above(30, rsi)", rsi=rsi) == evaluate("crosses_below(rsi, 30)", rsi=rsi)


def test_crosses_of_two_constants_never_fire():
    assert evaluate("crosses_above(1, 2) or crosses_below(2, 1)", close=[1, 2, 3]) == [False, False, False]


def test_crosses_compare_whole_expressions():
    fast = [1, 1, 1, 5]
    slow = [2, 2, 2, 2]

    assert evaluate("crosses_above(fast * 2, slow + 1)", fast=fast, slow=slow) == [False, False, False, True]


def test_crosses_are_false_on_the_first_bar_which_has_no_previous_bar():
    assert evaluate("crosses_above(a, 0)", a=[1, 2]) == [False, False]
    assert evaluate("crosses_above(a, 0)", a=[-1, 2]) == [False, True]


def test_offset_reads_earlier_bars_and_is_missing_before_the_history_starts():
    close = [10, 11, 12, 11, 13]

    assert evaluate("close > close[1]", close=close) == [False, True, True, False, True]
    assert evaluate("close[2] == 10", close=close) == [False, False, True, False, False]


def test_offset_longer_than_the_history_is_missing_everywhere():
    assert evaluate("close[10] > 0 or not close[10] > 0", close=[1, 2, 3]) == [False, False, False]


def test_any_comparison_with_nan_is_false_including_not_equal():
    a = [NAN, 1, NAN]
    b = [1, NAN, NAN]

    for operator in ("<", "<=", ">", ">=", "==", "!="):
        assert evaluate(f"a {operator} b", a=a, b=b) == [False, False, False], operator


def test_not_equal_is_true_for_different_numbers_and_false_for_equal_ones():
    assert evaluate("a != b", a=[1, 2, np.inf], b=[1, 3, np.inf]) == [False, True, False]


def test_negating_a_comparison_with_a_missing_value_is_still_false():
    rsi = [NAN, NAN, 50, 80]

    assert evaluate("not rsi > 70", rsi=rsi) == [False, False, True, False]
    assert evaluate("not (rsi > 70 or rsi < 30)", rsi=rsi) == [False, False, True, False]
    assert evaluate("not not rsi > 70", rsi=rsi) == [False, False, False, True]
    assert evaluate("not crosses_above(rsi, 60)", rsi=rsi) == [False, False, True, False]


def test_a_known_true_side_of_or_wins_over_a_missing_other_side():
    assert evaluate("a > 0 or b > 0", a=[1, 1, -1], b=[NAN, -1, NAN]) == [True, True, False]


def test_warm_up_nans_never_produce_a_signal():
    fast = [NAN, NAN, NAN, 1, 3]
    slow = [NAN, 2, 2, 2, 2]

    assert evaluate("crosses_above(fast, slow)", fast=fast, slow=slow) == [False, False, False, False, True]
    assert evaluate("not crosses_above(fast, slow)", fast=fast, slow=slow) == [False, False, False, True, False]


def test_arithmetic_on_missing_values_stays_missing():
    assert evaluate("a + 1 > 0 or abs(a) > 0 or max(a, 1) > 0", a=[NAN, 2]) == [False, True]


def test_division_by_zero_gives_inf_or_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate("a / b > 1000", a=[1, 0, -1], b=[0, 0, 0]) == [True, False, False]
        assert evaluate("a / 0 < 0", a=[-1, 1]) == [True, False]
        assert evaluate("$x / 0 > 0", {"x": 1}, a=[1]) == [True]


def test_abs_min_and_max_work_element_wise():
    a = [-3, 1, 5]
    b = [2, 2, 2]

    assert evaluate("abs(a) == 3", a=a, b=b) == [True, False, False]
    assert evaluate("min(a, b) == a", a=a, b=b) == [True, True, False]
    assert evaluate("max(a, b) == a", a=a, b=b) == [False, False, True]


def test_params_are_looked_up_at_evaluation_time_so_one_compiled_rule_serves_many_values():
    rule = compile_rule("rsi < $oversold")
    rsi = {"rsi": np.array([20.0, 28.0, 35.0])}

    assert rule.evaluate(rsi, {"oversold": 30}).tolist() == [True, True, False]
    assert rule.evaluate(rsi, {"oversold": 25}).tolist() == [True, False, False]


def test_a_rule_of_constants_is_broadcast_to_the_number_of_bars():
    assert evaluate("1 < 2", close=[5, 6, 7]) == [True, True, True]
    assert evaluate("$a > 2", {"a": 1}, close=[5, 6]) == [False, False]


def test_integer_and_list_inputs_are_accepted_as_float_series():
    result = compile_rule("close > 1").evaluate({"close": [1, 2, 3]}, {})

    assert result.tolist() == [False, True, True]


def test_evaluating_without_a_series_the_rule_reads_names_it():
    with pytest.raises(ValueError, match=r"rules\.enter_long reads series 'slow', which was not given"):
        compile_rule("fast > slow", "rules.enter_long").evaluate({"fast": np.ones(3)}, {})


def test_evaluating_without_a_param_the_rule_reads_names_it():
    with pytest.raises(ValueError, match=r"reads parameter \$level, which was not given"):
        compile_rule("close > $level").evaluate({"close": np.ones(3)}, {})


def test_series_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"needs series of one common length, got lengths \[3, 4\]"):
        compile_rule("a > b").evaluate({"a": np.ones(3), "b": np.ones(4)}, {})


def test_live_window_gives_the_same_newest_value_as_the_full_history():
    rng = np.random.default_rng(3)
    fast, slow = rng.normal(size=(2, 500)).cumsum(axis=1)
    rule = compile_rule("crosses_above(fast, slow) or fast[2] < slow - 1")
    full = rule.evaluate({"fast": fast, "slow": slow}, {})
    window = rule.max_offset + 1

    for end in range(window, 501):
        newest = rule.evaluate({"fast": fast[end - window : end], "slow": slow[end - window : end]}, {})[-1]
        assert newest == full[end - 1]


def test_evaluating_a_cross_over_a_million_bars_takes_milliseconds():
    rng = np.random.default_rng(0)
    fast, slow = rng.normal(size=(2, 1_000_000)).cumsum(axis=1)
    series = {"fast": fast, "slow": slow}
    rule = compile_rule("crosses_above(fast, slow)")

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        rule.evaluate(series, {})
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05


def test_histories_side_by_side_in_two_dimensional_arrays_are_evaluated_row_by_row():
    # The live engine stacks one row per symbol and evaluates a strategy's rule once for all of them.
    rng = np.random.default_rng(5)
    fast, slow = rng.normal(size=(2, 7, 40)).cumsum(axis=2)
    for text in ("crosses_above(fast, slow) or fast[2] < slow - $gap", "not (fast > 1) and 2 > 1", "3 > 2"):
        rule = compile_rule(text)
        rows = rule.evaluate({"fast": fast, "slow": slow}, {"gap": 1.0})
        assert rows.shape == fast.shape
        for row in range(len(fast)):
            assert rows[row].tolist() == rule.evaluate({"fast": fast[row], "slow": slow[row]}, {"gap": 1.0}).tolist()
