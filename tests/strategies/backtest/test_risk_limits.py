"""The risk limits of docs/backtesting.md ("Risk limits"), one rule per test, on bars worked out by hand.

Unless a test says otherwise: 1_050 cash, all of equity per trade, no costs, so an entry at
100 buys 10 units and every point the price moves is 10 of equity. Bars are four hours
apart, six to a UTC day, so that daily losses can cross midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from strategies.backtest import BacktestResult, run_backtest
from strategies.candles import Candles
from strategies.domain import LimitBreach, RiskLimit, SkipReason
from strategies.examples import load_example
from strategies.indicators import compute_indicators
from strategies.position import (
    DAY_MS,
    MAX_TRADES_PER_BAR,
    TRADE_FIELDS,
    limit_breach,
    make_config,
    new_state,
    on_close,
    step_bar,
    trade_log,
)
from strategies.signals import compute_signals
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

from .helpers import START_MS, Bar, flag_candles, flag_spec, trade_tuples

FOUR_HOURS = 4 * 3_600_000


def backtest(bars: Sequence[Bar], limits: dict[str, Any], cash: float = 1_050, **fields: Any) -> BacktestResult:
    """``helpers.backtest`` on four-hour bars from midnight UTC, with ``risk.limits``."""
    rule_bars = {
        name: fields.pop(name) for name in ("enter_long", "exit_long", "enter_short", "exit_short") if name in fields
    }
    candles = flag_candles(bars, **rule_bars)
    ts = START_MS + FOUR_HOURS * np.arange(len(bars), dtype=np.int64)
    candles = Candles(ts, candles.open, candles.high, candles.low, candles.close, candles.volume)
    risk = {**fields.pop("risk", {}), "limits": limits}
    return run_backtest(flag_spec(risk=risk, **fields), candles, cash=cash)


def test_equity_at_a_close_the_daily_limit_or_more_below_the_days_start_exits_at_the_next_open_and_trades_no_more():
    bars = [100.0, (100, 100, 95, 95), 96.0, 97.0, 98.0, 99.0]
    result = backtest(bars, {"max_daily_loss": 0.04}, enter_long=[0, 3], exit_long=[5])

    assert trade_tuples(result) == [("long", 10, 1, 100, 2, 96, "limit")]  # 1_000 at bar 1's close: 4.76% down
    assert not result.open_trades  # the entry signal of bar 3 placed nothing
    assert result.stopped_by == LimitBreach(
        RiskLimit.MAX_DAILY_LOSS, START_MS + FOUR_HOURS, 1, 1_000.0, 1_050.0, pytest.approx(50 / 1_050), 0.04
    )
    assert result.to_dict()["stopped_by"]["limit"] == "max_daily_loss"


def test_a_loss_just_under_the_limit_trips_nothing():
    result = backtest([100.0, 95.5, 95.5, 95.5], {"max_daily_loss": 0.05}, enter_long=[0])  # 4.29% down
    assert result.stopped_by is None and len(result.open_trades) == 1


def test_the_daily_loss_is_measured_from_the_equity_at_the_last_close_of_the_day_before():
    # Day 1 closes at 97 (1_020); day 2 falls to 95 (1_000: 1.96% below 1_020, though 4.76% below the cash), then 92.
    day_1 = [100.0, (100, 100, 99, 99), 98.0, 98.0, 97.0, 97.0]
    result = backtest([*day_1, 96.0, 95.0, 92.0, 92.0, 92.0], {"max_daily_loss": 0.04}, enter_long=[0])

    assert result.stopped_by is not None
    assert (result.stopped_by.bar, result.stopped_by.equity, result.stopped_by.reference) == (8, 970.0, 1_020.0)
    assert trade_tuples(result) == [("long", 10, 1, 100, 9, 92, "limit")]


def test_the_drawdown_is_measured_from_the_highest_equity_at_a_close():
    # Bought at 100; up to 110 (1_150 of equity), then down: 105 is 4.3% below the peak, 103 is 6.1% below.
    bars = [100.0, (100, 105, 100, 105), 110.0, 105.0, 103.0, 104.0, 104.0]
    result = backtest(bars, {"max_drawdown": 0.05}, enter_long=[0])

    assert result.stopped_by == LimitBreach(
        RiskLimit.MAX_DRAWDOWN, START_MS + 4 * FOUR_HOURS, 4, 1_080.0, 1_150.0, pytest.approx(70 / 1_150), 0.05
    )
    assert trade_tuples(result) == [("long", 10, 1, 100, 5, 104, "limit")]


def test_a_loss_limit_tripped_while_flat_takes_no_entry_afterwards():
    # A stop at 95 closes the position inside bar 1 (1_000, 4.76% down), so the close finds it flat.
    bars = [100.0, (100, 100, 90, 96), 96.0, 96.0, 96.0]
    result = backtest(bars, {"max_daily_loss": 0.04}, risk={"stop_loss": {"fraction": 0.05}}, enter_long=[0, 2])

    assert trade_tuples(result) == [("long", 10, 1, 100, 1, 95, "stop_loss")]
    assert not result.open_trades and result.stopped_by.bar == 1


def test_when_both_loss_limits_trip_at_one_close_the_daily_loss_is_reported():
    result = backtest([100.0, (100, 100, 90, 90), 90.0], {"max_daily_loss": 0.05, "max_drawdown": 0.05}, enter_long=[0])
    assert result.stopped_by.limit is RiskLimit.MAX_DAILY_LOSS


def test_an_entry_worth_more_than_max_position_notional_is_skipped_as_above_max_notional():
    too_big = backtest([100.0] * 4, {"max_position_notional": 999}, enter_long=[0])  # 10 units at 100: 1_000
    assert not too_big.open_trades
    assert dict(too_big.skipped.by_reason) == {SkipReason.ABOVE_MAX_NOTIONAL: 1}
    assert too_big.no_trades_reason == "1 entry skipped: value above max_position_notional (1)"

    at_the_limit = backtest([100.0] * 4, {"max_position_notional": 1_000}, enter_long=[0])
    assert at_the_limit.open_trades[0].size == 10


def test_limits_that_never_trip_change_no_trade():
    doc = {**load_example("sma_cross"), "symbols": ["BTCUSDT"], "timeframe": "1m"}
    candles = generate_candles(2_000, "1m", seed=5)
    plain = run_backtest(validate_spec(doc), candles)
    limited = {**doc, "risk": {"limits": {"max_daily_loss": 0.5, "max_drawdown": 0.5, "max_position_notional": 1e9}}}
    result = run_backtest(validate_spec(limited), candles)

    assert list(result.trades) == list(plain.trades) and result.stopped_by is None
    np.testing.assert_array_equal(result.equity, plain.equity)


def test_stepping_bar_by_bar_with_on_close_at_each_close_stops_where_the_whole_backtest_stops():
    doc = {
        **load_example("sma_cross"),
        "symbols": ["BTCUSDT"],
        "timeframe": "1m",
        "risk": {"limits": {"max_daily_loss": 0.02}},
    }
    spec, candles = validate_spec(doc), generate_candles(2_000, "1m", seed=5)
    whole = run_backtest(spec, candles)
    assert whole.stopped_by is not None and whole.trades[-1].exit_reason.value == "limit"

    params = spec.resolved_params()
    indicators = compute_indicators(spec, candles.ohlcv())
    signals = compute_signals(spec, {**candles.ohlcv(), **indicators})
    never = np.zeros(len(candles), dtype=bool)
    flags = [signals.get(rule, never) for rule in ("enter_long", "exit_long", "enter_short", "exit_short")]
    config = make_config(spec, params)
    state, rows = new_state(10_000), np.empty((MAX_TRADES_PER_BAR, TRADE_FIELDS))
    closed, curve = [], []
    for i in range(len(candles)):
        n = step_bar(
            state, i, candles.open[i], candles.high[i], candles.low[i],
            *(flag[i] for flag in flags), 0.0, 0.0, 0.0, config, rows, 0,
        )  # fmt: skip
        closed.extend(rows[:n].copy())
        curve.append(on_close(state, i, candles.ts[i] // DAY_MS, candles.close[i], config))

    assert list(trade_log(np.array(closed), candles.ts)) == list(whole.trades)
    np.testing.assert_array_equal(curve, whole.equity)
    assert limit_breach(state, int(candles.ts[whole.stopped_by.bar]), config) == whole.stopped_by
