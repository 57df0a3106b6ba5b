"""The live engine's way through the state machine: the same kernels, a bar or a batch of trades at a time."""

from __future__ import annotations

import numpy as np

from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.indicators import compute_indicators
from strategies.position import (
    MAX_TRADES_PER_BAR,
    TRADE_FIELDS,
    equity,
    fill_order,
    make_config,
    new_state,
    on_signals,
    risk_offsets,
    step_bar,
    step_ticks,
    trade_log,
)
from strategies.signals import compute_signals
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

from .helpers import flag_spec


def test_stepping_one_bar_at_a_time_gives_the_trades_and_equity_of_a_whole_backtest():
    spec = validate_spec(load_example("macd_trend_atr_stop"))  # ATR stop and trail, risk sizing, costs
    candles = generate_candles(3000, "4h", seed=4)
    whole = run_backtest(spec, candles)
    assert len(whole.trades) > 10

    params = spec.resolved_params()
    indicators = compute_indicators(spec, candles.ohlcv())
    signals = compute_signals(spec, {**candles.ohlcv(), **indicators})
    never = np.zeros(len(candles), dtype=bool)
    flags = [signals.get(rule, never) for rule in ("enter_long", "exit_long", "enter_short", "exit_short")]
    offsets, config = risk_offsets(spec, indicators, params), make_config(spec, params)
    state, rows = new_state(10_000), np.empty((MAX_TRADES_PER_BAR, TRADE_FIELDS))
    closed, curve = [], []
    for i in range(len(candles)):
        row = offsets[min(i, len(offsets) - 1)]
        n = step_bar(
            state, i, candles.open[i], candles.high[i], candles.low[i],
            *(flag[i] for flag in flags), row[0], row[1], row[2], config, rows, 0,
        )  # fmt: skip
        closed.extend(rows[:n].copy())
        curve.append(equity(state, candles.close[i]))

    assert list(trade_log(np.array(closed), candles.ts)) == list(whole.trades)
    np.testing.assert_array_equal(curve, whole.equity)


def test_a_stop_fires_on_a_batch_of_trades_between_candle_closes():
    config = make_config(flag_spec(risk={"stop_loss": {"fraction": 0.02}}), {})
    state, rows = new_state(1_050), np.empty((MAX_TRADES_PER_BAR, TRADE_FIELDS))
    on_signals(state, True, False, False, False, 0.0, 0.0, 0.0, config)  # candle 0 closes on an entry
    assert fill_order(state, 1, 100.0, config, rows, 0) == 0  # candle 1's first trade fills it
    assert step_ticks(state, 1, 100.0, 101.0, 99.0, config, rows, 0) == 0  # a batch above the stop at 98
    assert step_ticks(state, 1, 99.0, 99.5, 97.5, config, rows, 0) == 1  # a batch through it
    assert (rows[0, 5], equity(state, 97.5)) == (98.0, 1_050 - 10 * 2)


def test_a_batch_of_trades_that_starts_beyond_the_stop_fills_at_its_first_price():
    config = make_config(flag_spec(risk={"stop_loss": {"fraction": 0.02}}), {})
    state, rows = new_state(1_050), np.empty((MAX_TRADES_PER_BAR, TRADE_FIELDS))
    on_signals(state, True, False, False, False, 0.0, 0.0, 0.0, config)
    fill_order(state, 1, 100.0, config, rows, 0)
    assert step_ticks(state, 1, 97.0, 97.2, 96.0, config, rows, 0) == 1
    assert rows[0, 5] == 97.0
