"""What a backtest hands back: the equity curve, the stats, the chart points, the JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategies.domain import ExitReason, OrderSide, Side, Trade, iso_time
from strategies.stats import chart_indices

from .helpers import START_MS, backtest

STAT_KEYS = {
    "start", "end", "duration", "exposure_pct", "final_equity", "peak_equity", "return_pct",
    "buy_hold_return_pct", "return_ann_pct", "cagr_pct", "volatility_ann_pct", "sharpe", "sortino",
    "calmar", "max_drawdown_pct", "avg_drawdown_pct", "max_drawdown_duration", "n_trades",
    "win_rate_pct", "best_trade_pct", "worst_trade_pct", "avg_trade_pct", "avg_holding_time",
    "profit_factor", "expectancy_pct", "total_commission",
}  # fmt: skip

# 10 units held from bar 1's open at 100: equity moves 10 per point of the close
UP_DOWN = [100.0, 100.0, 102.0, 98.0, 105.0, 95.0]


def test_equity_is_cash_plus_the_marked_position_at_each_close():
    result = backtest(UP_DOWN, enter_long=[0], costs={"commission": 0.001})
    entry_commission = 10 * 100 * 0.001
    expected = [1_050, 1_050, 1_070, 1_030, 1_100, 1_000]
    np.testing.assert_allclose(result.equity, np.array(expected) - [0, *[entry_commission] * 5])


def test_max_drawdown_is_the_largest_fall_from_a_running_peak_as_a_negative_percent():
    stats = backtest(UP_DOWN, enter_long=[0]).stats
    assert stats["max_drawdown_pct"] == pytest.approx(-(1 - 1_000 / 1_100) * 100)
    assert stats["peak_equity"] == 1_100
    assert stats["max_drawdown_duration"] == 2 * 60_000  # under the peak of bar 2 until bar 4


def test_trade_stats_come_from_the_closed_trades():
    bars = [100.0, 100.0, 110.0, 110.0, 110.0, 99.0, 99.0]
    stats = backtest(bars, enter_long=[0, 3], exit_long=[2, 5]).stats
    # +10% (1_050 -> 1_150), then 10 units at 110 closed at 99: -10%
    assert stats["n_trades"] == 2
    assert stats["win_rate_pct"] == 50
    assert (stats["best_trade_pct"], stats["worst_trade_pct"]) == pytest.approx((10, -10))
    assert stats["avg_trade_pct"] == pytest.approx((np.sqrt(1.1 * 0.9) - 1) * 100)  # geometric, like backtesting.py
    assert stats["expectancy_pct"] == pytest.approx(0)
    assert stats["profit_factor"] == pytest.approx(1)
    assert stats["avg_holding_time"] == 2 * 60_000
    assert stats["exposure_pct"] == pytest.approx(6 / 7 * 100)  # bars 1-3 and 4-6, entry and exit bars included


def test_stats_hold_every_documented_key_and_nan_where_undefined():
    stats = backtest([100.0] * 5).stats
    assert stats.keys() >= STAT_KEYS
    assert stats["n_trades"] == 0
    assert np.isnan(stats["win_rate_pct"]) and np.isnan(stats["profit_factor"])
    assert stats["return_pct"] == 0 and stats["max_drawdown_pct"] == 0


def test_to_dict_is_plain_json_with_times_as_epoch_milliseconds():
    result = backtest(UP_DOWN, enter_long=[0], exit_long=[1])
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    (trade,) = document["trades"]
    assert trade["entry_time"] == START_MS + 60_000 and trade["exit_reason"] == "signal"
    assert document["stats"]["win_rate_pct"] == 100
    assert document["equity_chart"]["ts"][0] == START_MS
    assert len(document["equity_chart"]["equity"]) == len(UP_DOWN)


def test_the_chart_keeps_every_peak_and_trough_in_at_most_the_points_asked_for():
    walk = np.cumsum(np.random.default_rng(3).normal(size=100_000))
    picked = chart_indices(walk, 1000)
    assert len(picked) <= 1000
    assert np.all(np.diff(picked) > 0)
    assert {0, len(walk) - 1, int(walk.argmin()), int(walk.argmax())} <= set(picked.tolist())
    np.testing.assert_array_equal(chart_indices(walk[:500], 1000), np.arange(500))


def test_a_trade_splits_its_commission_into_fills_by_traded_value():
    trade = Trade(
        side=Side.SHORT, size=2, entry_ts=START_MS, entry_price=100, exit_ts=START_MS + 60_000,
        exit_price=50, pnl=97.0, commission=3.0, exit_reason=ExitReason.TAKE_PROFIT, entry_bar=0, exit_bar=1,
    )  # fmt: skip
    entry, exit_ = trade.fills()
    assert (entry.side, entry.commission, exit_.side, exit_.commission) == (OrderSide.SELL, 2.0, OrderSide.BUY, 1.0)
    assert trade.return_pct == pytest.approx(50 - 1.5)
    assert trade.to_dict()["side"] == "short"


def test_iso_time_is_utc_with_a_z():
    assert iso_time(START_MS) == "2024-01-01T00:00:00Z"
    assert iso_time(START_MS + 1_500) == "2024-01-01T00:00:01.500Z"
