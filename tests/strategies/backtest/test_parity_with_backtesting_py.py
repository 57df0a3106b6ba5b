"""Acceptance: the same strategy on the same bars gives backtesting.py's trades and stats.

Sizing all of equity, no slippage, commission 0 or 0.1%; seeded random walks long enough
for dozens of trades. Every closed trade must match (bars, times, size, prices, PnL), and
so must the headline stats and every other stat both report the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategies.backtest import BacktestResult, run_backtest
from strategies.candles import Candles
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

from .backtesting_py import RTOL, RsiReversion, SmaCross, assert_same_trades, run_reference, times_ms

SEEDS = (1, 2, 3)


def with_gaps(candles: Candles, seed: int, size: float = 0.002) -> Candles:
    """The same bars with each open moved off the previous close, so stops can be gapped through."""
    rng = np.random.default_rng(seed)
    open_ = candles.open * (1 + rng.normal(0, size, len(candles)))
    return Candles(
        candles.ts,
        open_,
        np.maximum(candles.high, open_),
        np.minimum(candles.low, open_),
        candles.close,
        candles.volume,
    )


def example(name: str, **fields):
    return validate_spec({**load_example(name), **fields})


def assert_same_headline(ours: BacktestResult, reference: pd.Series) -> None:
    stats = ours.stats
    np.testing.assert_allclose(stats["final_equity"], reference["Equity Final [$]"], rtol=RTOL)
    np.testing.assert_allclose(stats["return_pct"], reference["Return [%]"], rtol=RTOL)
    assert stats["n_trades"] == reference["# Trades"]
    np.testing.assert_allclose(stats["win_rate_pct"], reference["Win Rate [%]"], rtol=RTOL)
    np.testing.assert_allclose(stats["max_drawdown_pct"], reference["Max. Drawdown [%]"], rtol=RTOL)


def assert_parity(spec, candles: Candles, strategy, commission: float, **params) -> None:
    ours = run_backtest(spec, candles, cash=10_000)
    reference = run_reference(candles, strategy, commission, **params)
    assert_same_trades(ours, reference)
    assert_same_headline(ours, reference)
    np.testing.assert_allclose(ours.equity, reference["_equity_curve"].Equity, rtol=RTOL)


@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("seed", SEEDS)
def test_sma_cross_trades_like_backtesting_py(seed, commission):
    spec = example("sma_cross", costs={"commission": commission})
    assert_parity(spec, generate_candles(4000, "1h", seed=seed), SmaCross, commission)


@pytest.mark.parametrize("seed", SEEDS)
def test_short_sma_cross_with_stops_trades_like_backtesting_py_sell_orders(seed):
    rules = {"enter_short": "crosses_below(fast, slow)", "exit_short": "crosses_above(fast, slow)"}
    risk = {"stop_loss": {"fraction": 0.015}, "take_profit": {"fraction": 0.02}, "trailing_stop": {"fraction": 0.01}}
    spec = example("sma_cross", rules=rules, risk=risk, costs={"commission": 0.001})
    candles = with_gaps(generate_candles(4000, "1h", seed=seed), seed)
    assert_parity(spec, candles, SmaCross, 0.001, short=True, stop_loss=0.015, take_profit=0.02, trailing_stop=0.01)


@pytest.mark.parametrize("fraction", [0.3, 0.75])
def test_a_fraction_of_equity_below_one_sizes_like_backtesting_py_relative_order_sizes(fraction):
    spec = example("sma_cross", sizing={"mode": "fraction_of_equity", "value": fraction}, costs={"commission": 0.001})
    assert_parity(spec, generate_candles(4000, "1h", seed=9), SmaCross, 0.001, fraction=fraction)


@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("seed", SEEDS)
def test_rsi_mean_reversion_trades_like_backtesting_py(seed, commission):
    spec = example("rsi_mean_reversion", costs={"commission": commission}, risk={})
    assert_parity(spec, generate_candles(8000, "15m", seed=seed), RsiReversion, commission)


@pytest.mark.parametrize("seed", SEEDS)
def test_rsi_mean_reversion_with_its_stop_loss_trades_like_backtesting_py(seed):
    spec = example("rsi_mean_reversion")  # 5% stop, 0.1% commission
    candles = with_gaps(generate_candles(8000, "15m", seed=seed), seed)
    assert_parity(spec, candles, RsiReversion, 0.001, stop_loss=0.05)


@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("seed", SEEDS)
def test_stop_loss_and_take_profit_trade_like_backtesting_py_bracket_orders(seed, commission):
    risk = {"stop_loss": {"fraction": 0.015}, "take_profit": {"fraction": 0.02}}
    spec = example("sma_cross", costs={"commission": commission}, risk=risk)
    candles = with_gaps(generate_candles(4000, "1h", seed=seed), seed)
    ours = run_backtest(spec, candles, cash=10_000)
    reasons = {trade.exit_reason.value for trade in ours.trades}
    assert {"stop_loss", "take_profit", "signal"} <= reasons
    assert_parity(spec, candles, SmaCross, commission, stop_loss=0.015, take_profit=0.02)


@pytest.mark.parametrize("seed", SEEDS)
def test_trailing_stop_trades_like_backtesting_py_with_a_stop_raised_each_bar(seed):
    risk = {"stop_loss": {"fraction": 0.02}, "trailing_stop": {"fraction": 0.01}}
    spec = example("sma_cross", costs={"commission": 0.001}, risk=risk)
    candles = with_gaps(generate_candles(4000, "1h", seed=seed), seed)
    ours = run_backtest(spec, candles, cash=10_000)
    assert "trailing_stop" in {trade.exit_reason.value for trade in ours.trades}
    assert_parity(spec, candles, SmaCross, 0.001, stop_loss=0.02, trailing_stop=0.01)


@pytest.mark.parametrize("timeframe", ["1h", "1d"])
def test_every_stat_backtesting_py_also_reports_is_computed_its_way(timeframe):
    spec = example("sma_cross", costs={"commission": 0.001})
    candles = generate_candles(3000, timeframe, seed=5)
    ours = run_backtest(spec, candles, cash=10_000).stats
    theirs = run_reference(candles, SmaCross, 0.001)
    same = {
        "peak_equity": "Equity Peak [$]",
        "buy_hold_return_pct": "Buy & Hold Return [%]",
        "return_ann_pct": "Return (Ann.) [%]",
        "volatility_ann_pct": "Volatility (Ann.) [%]",
        "cagr_pct": "CAGR [%]",
        "sharpe": "Sharpe Ratio",
        "sortino": "Sortino Ratio",
        "calmar": "Calmar Ratio",
        "avg_drawdown_pct": "Avg. Drawdown [%]",
        "best_trade_pct": "Best Trade [%]",
        "worst_trade_pct": "Worst Trade [%]",
        "avg_trade_pct": "Avg. Trade [%]",
        "profit_factor": "Profit Factor",
        "expectancy_pct": "Expectancy [%]",
    }
    for key, name in same.items():
        np.testing.assert_allclose(ours[key], theirs[name], rtol=1e-7, err_msg=key)
    for key, name in {"duration": "Duration", "max_drawdown_duration": "Max. Drawdown Duration"}.items():
        assert ours[key] == theirs[name] // pd.Timedelta(milliseconds=1), key
    assert ours["avg_holding_time"] == theirs["Avg. Trade Duration"] // pd.Timedelta(milliseconds=1)
    assert ours["start"] == times_ms(pd.Series([theirs["Start"]]))[0]
    assert ours["end"] == times_ms(pd.Series([theirs["End"]]))[0]


def test_exposure_and_commission_count_the_position_still_open_unlike_backtesting_py():
    spec = example("sma_cross", costs={"commission": 0.001})
    full = generate_candles(3000, "1h", seed=5)
    held = run_backtest(spec, full).trades[-1]
    candles = full.between(end_ms=int(full.ts[held.exit_bar]))  # the data ends while that trade is held
    result = run_backtest(spec, candles, cash=10_000)
    theirs = run_reference(candles, SmaCross, 0.001)
    (still_open,) = result.open_trades
    bars_held = len(candles) - still_open.entry_bar
    assert result.stats["exposure_pct"] == pytest.approx(theirs["Exposure Time [%]"] + bars_held / len(candles) * 100)
    assert result.stats["total_commission"] == pytest.approx(theirs["Commissions [$]"] + still_open.commission)
