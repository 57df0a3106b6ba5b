"""Parsing rules: syntax, precedence, type checks, and errors that point at the problem."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from strategies.rules import RuleError, compile_rule
from strategies.rules.parser import MAX_NESTING


def rule_error(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        compile_rule(text, "rules.enter_long")
    return caught.value


def caret_column(error: RuleError) -> int:
    caret_line = str(error).splitlines()[-1]
    return caret_line.index("^") - 1  # the text and caret lines are indented by two spaces


def truth_table(text: str) -> list[bool]:
    """The rule evaluated on every combination of a, b, c being true (1) or false (0)."""
    rows = list(itertools.product([0.0, 1.0], repeat=3))
    series = {name: np.array([row[i] for row in rows]) for i, name in enumerate("abc")}
    return list(compile_rule(text).evaluate(series, {}))


def test_error_names_the_rule_and_shows_column_and_caret_under_the_offending_text():
    error = rule_error("close > sma)")

    assert str(error) == "rules.enter_long: unexpected ')' at column 12\n  close > sma)\n             ^"
    assert (error.rule_name, error.column, error.reason) == ("rules.enter_long", 12, "unexpected ')'")


def test_rule_error_is_a_value_error():
    assert issubclass(RuleError, ValueError)


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("close > sma(10)", 9, "unknown function 'sma'"),
        ("close >", 8, "unexpected end of rule"),
        ("close > open open", 14, "unexpected 'open'"),
        ("(close > open", 14, "expected ')' but found end of rule"),
        ("close[1 > open", 9, "expected ']' but found '>'"),
        ("close[-1] > open", 7, "negative offset"),
        ("close[1.5] > open", 7, "offset '1.5' is not a whole number"),
        ("close[$n] > open", 7, "offset '$n' is not a whole number"),
        ("close = open", 7, "unexpected character '='"),
        ("close > 1e", 9, "malformed number '1e'"),
        ("close > 12abc", 9, "malformed number '12abc'"),
        ("crosses_above(rsi)", 1, "crosses_above() takes 2 arguments, not 1"),
        ("max(a, b, c) > 1", 1, "max() takes 2 arguments, not 3"),
        ("close > open,", 13, "unexpected ','"),
        ("", 1, "the rule is empty"),
        ("   ", 1, "the rule is empty"),
    ],
)
def test_syntax_errors_point_at_the_offending_token(text, column, reason):
    error = rule_error(text)

    assert (error.column, error.reason) == (column, reason)
    assert caret_column(error) == column


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("close = open", "use '==' to compare"),
        ("a > 1 && b > 1", "use 'and'"),
        ("a > 1 || b > 1", "use 'or'"),
        ("close[-1] > open", "rules only see the current and past bars"),
        ("close > sma(10)", "rules can call crosses_above, crosses_below, abs, min, max"),
    ],
)
def test_common_mistakes_come_with_a_hint(text, hint):
    assert rule_error(text).hint == hint
    assert f"; {hint}" in str(rule_error(text))


@pytest.mark.parametrize(
    ("text", "column", "reason", "hint"),
    [
        ("close + (a > b) > 1", 9, "'(a > b)' is a condition (true/false)", "'+' needs a number on both sides"),
        ("rsi and 3", 1, "'rsi' is a number", "'and' needs a condition (true/false) on both sides"),
        ("a > 1 or rsi", 10, "'rsi' is a number", "'or' needs a condition (true/false) on both sides"),
        ("not rsi", 5, "'rsi' is a number", "'not' needs a condition (true/false) after it"),
        ("-(a > b) < 1", 2, "'(a > b)' is a condition (true/false)", "'-' needs a number after it"),
        ("a < b < c", 1, "'a < b' is a condition (true/false)", "'<' needs a number on both sides"),
        ("abs(a > b) > 1", 5, "'a > b' is a condition (true/false)", "abs() needs numbers as arguments"),
        ("rsi + 3", 1, "'rsi + 3' is a number", "a rule must be a condition (true/false)"),
        (
            "crosses_above(a, b) > 1",
            1,
            "'crosses_above(a, b)' is a condition (true/false)",
            "'>' needs a number on both sides",
        ),
    ],
)
def test_mixing_numbers_and_conditions_is_a_compile_time_type_error(text, column, reason, hint):
    error = rule_error(text)

    assert (error.column, error.reason, error.hint) == (column, reason, hint)


def test_caret_stays_aligned_when_the_rule_spans_several_lines():
    error = rule_error("a > 1\nand\tb >")

    text_line = str(error).splitlines()[1]
    assert text_line == "  a > 1 and b >"
    assert error.column == caret_column(error) == 14


def test_rules_nested_beyond_the_limit_are_refused_instead_of_overflowing_the_stack():
    too_deep_parentheses = "(" * (MAX_NESTING + 1) + "a > b" + ")" * (MAX_NESTING + 1)
    too_long_chain = " + ".join(["a"] * (MAX_NESTING + 1)) + " > 0"

    assert rule_error(too_deep_parentheses).reason == "the rule is nested too deeply"
    assert rule_error(too_long_chain).reason == "the rule is nested too deeply"


def test_rules_nested_within_the_limit_compile():
    compile_rule("(" * 20 + "a > b" + ")" * 20)
    compile_rule(" + ".join(["a"] * 40) + " > 0")


@pytest.mark.parametrize("number", ["70", "0.5", ".5", "5.", "1e-3", "2.5E+2"])
def test_numbers_can_be_integers_decimals_or_scientific(number):
    value = float(number)
    rule = compile_rule(f"close == {number}")

    assert list(rule.evaluate({"close": np.array([value, value + 1])}, {})) == [True, False]


def test_compiled_rule_lists_the_series_and_params_it_reads():
    rule = compile_rule("crosses_above(macd.macd, macd.macdsignal[2]) and close > $floor * sma and rsi < $cap")

    assert rule.identifiers == {"macd.macd", "macd.macdsignal", "close", "sma", "rsi"}
    assert rule.params == {"floor", "cap"}
    assert rule.text == "crosses_above(macd.macd, macd.macdsignal[2]) and close > $floor * sma and rsi < $cap"


@pytest.mark.parametrize(
    ("text", "max_offset"),
    [
        ("close > open", 0),
        ("close > close[3]", 3),
        ("crosses_above(fast, slow)", 1),
        ("crosses_above(fast[2], slow)", 3),
        ("crosses_below(close, 70) or close[5] > open", 5),
    ],
)
def test_max_offset_is_the_deepest_lookback_with_one_extra_bar_per_cross(text, max_offset):
    assert compile_rule(text).max_offset == max_offset


def test_locate_gives_the_column_of_the_first_use_of_a_series_or_param():
    rule = compile_rule("close > fast and fast > $level and close[1] > $level")

    assert (rule.locate("close"), rule.locate("fast"), rule.locate("$level")) == (1, 9, 25)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or():
    assert truth_table("a > 0 or b > 0 and c > 0") == [
        a or (b and c) for a, b, c in itertools.product([False, True], repeat=3)
    ]
    assert truth_table("not a > 0 and b > 0") == [
        (not a) and b for a, b, c in itertools.product([False, True], repeat=3)
    ]
    assert truth_table("not (a > 0 and b > 0)") == [
        not (a and b) for a, b, c in itertools.product([False, True], repeat=3)
    ]


def test_arithmetic_binds_tighter_than_comparisons_which_bind_tighter_than_logic():
    series = {"a": np.array([2.0]), "b": np.array([3.0]), "c": np.array([4.0])}

    assert compile_rule("a < b and b < c or c < a").evaluate(series, {})[0]

    assert compile_rule("a + b * c == 14").evaluate(series, {})[0]
    assert compile_rule("(a + b) * c == 20").evaluate(series, {})[0]
    assert compile_rule("a - b - c == -5").evaluate(series, {})[0]  # left-associative
    assert compile_rule("c / a / a == 1").evaluate(series, {})[0]
    assert compile_rule("-a * b == -6 and - -a == 2").evaluate(series, {})[0]


def test_equal_rules_compile_to_equal_objects():
    assert compile_rule("close > open", "rules.enter_long") == compile_rule("close > open", "rules.enter_long")
    assert compile_rule("close > open") != compile_rule("close >= open")


def test_the_rule_language_never_hands_text_to_pythons_evaluator():
    source_root = Path(__file__).resolve().parents[2] / "strategies" / "rules"
    forbidden = re.compile(r"(?<![\w.])(eval|exec|compile)\(|literal_eval")

    offenders = [
        f"{path.relative_to(source_root)}:{number}"
        for path in source_root.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []
