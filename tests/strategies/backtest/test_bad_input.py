"""Candles and cash the engine can't trade on are refused up front, in one line naming the first bad bar."""

from __future__ import annotations

import numpy as np
import pytest

from strategies.backtest import SeriesCache, check_candles, run_backtest, run_many
from strategies.candles import COLUMNS, Candles
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

SPEC = validate_spec(load_example("sma_cross"))
GOOD = generate_candles(300, "1h", seed=1)


def with_value(column: str, bar: int, value: float, candles: Candles = GOOD) -> Candles:
    """``candles`` with one value replaced."""
    columns = {name: getattr(candles, name).copy() for name in COLUMNS}
    columns[column][bar] = value
    return Candles(**columns)


def refusal(candles: Candles) -> str:
    with pytest.raises(ValueError) as caught:
        run_backtest(SPEC, candles)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_zero_open_on_an_entry_bar_is_refused_instead_of_dividing_by_zero():
    entry = run_backtest(SPEC, GOOD).trades[0].entry_bar
    message = refusal(with_value("open", entry, 0.0))
    assert message.startswith(f"bar {entry} (ts {GOOD.ts[entry]} = ")
    assert "open is 0.0; must be finite and above 0" in message


def test_nan_closes_are_refused_instead_of_giving_nan_equity():
    all_nan = Candles(GOOD.ts, GOOD.open, GOOD.high, GOOD.low, np.full(len(GOOD), np.nan), GOOD.volume)
    assert refusal(all_nan) == (
        f"bar 0 (ts {GOOD.ts[0]} = 2024-01-01T00:00:00.000Z): close is nan; must be finite and above 0"
    )


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("high", np.inf, "high is inf; must be finite and above 0"),
        ("low", -1.0, "low is -1.0; must be finite and above 0"),
        ("close", 0.0, "close is 0.0; must be finite and above 0"),
        ("volume", -5.0, "volume is -5.0; must be finite and at least 0"),
        ("volume", np.nan, "volume is nan; must be finite and at least 0"),
    ],
)
def test_prices_must_be_finite_and_positive_and_volume_finite_and_not_negative(column, value, problem):
    assert refusal(with_value(column, 7, value)).endswith(f"): {problem}")


def test_a_volume_of_zero_is_fine():
    run_backtest(SPEC, with_value("volume", 7, 0.0))


@pytest.mark.parametrize("shift", [0, -1], ids=["repeated", "going-back"])
def test_times_must_strictly_increase(shift):
    candles = with_value("ts", 12, GOOD.ts[11] + shift)
    assert refusal(candles) == (
        f"bar 12 (ts {GOOD.ts[11] + shift} = {np.datetime64(int(GOOD.ts[11] + shift), 'ms')}Z): "
        f"ts is not after the previous bar's ({GOOD.ts[11]}); times must increase"
    )


def test_the_first_bad_bar_is_the_one_named():
    candles = with_value("close", 20, np.nan, with_value("volume", 90, -1.0, with_value("open", 40, 0.0)))
    assert refusal(candles).startswith("bar 20 ")


def test_every_entry_point_checks_the_candles():
    bad = with_value("low", 3, 0.0)
    for enter in (SeriesCache, check_candles, lambda candles: run_many(SPEC, candles, [{"fast": 5}])):
        with pytest.raises(ValueError, match=r"^bar 3 "):
            enter(bad)
    with pytest.raises(ValueError, match="no candles"):
        run_backtest(SPEC, Candles.empty())


@pytest.mark.parametrize("cash", [np.inf, np.nan, 0, -100])
def test_cash_must_be_positive_and_finite(cash):
    for run in (lambda: run_backtest(SPEC, GOOD, cash=cash), lambda: run_many(SPEC, GOOD, [{}], cash=cash)):
        with pytest.raises(ValueError, match=f"cash must be a positive finite amount, got {cash}"):
            run()
