"""Acceptance: fractional sizes on a quantity step trade like vectorbt's ``size_granularity``, one for one.

backtesting.py has no reference for fractional sizes (it reads a size below 1 as a share of
equity), so the independent reference here is vectorbt: ``Portfolio.from_signals`` on the same
entries and exits, shifted one bar and filled at the open (as in bench/backtest.py), buying or
selling short with all the cash at a ``size_granularity`` equal to the step. An SMA cross on a
random walk around 60,000 (BTCUSDT's price, where 10,000 of cash buys no whole unit) must give
the same trades: bars, size in lots, prices and PnL.

vectorbt applies the granularity to closing orders too, in float (``0.147 // 0.001`` is 146), so
it would close 0.146 of a 0.147 position and leave a sliver; its exits get no granularity.
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import numpy as np
import pytest
import vectorbt as vbt

from strategies.backtest import SeriesCache, run_backtest
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

from .backtesting_py import RTOL, frame

CASH = 10_000
SHORT_RULES = {"enter_short": "crosses_below(fast, slow)", "exit_short": "crosses_above(fast, slow)"}


def vectorbt_trades(spec, candles, step: float, commission: float, short: bool):
    """vectorbt's closed trades for ``spec``'s entry and exit signals, filled at the next open, and its
    account value at every close."""
    cache = SeriesCache(candles)
    indicators, keys = cache.indicators(spec)
    signals = cache.signals(spec, {**cache.ohlcv, **indicators}, keys)
    side = "short" if short else "long"
    entries, exits = (np.r_[False, signals[f"{rule}_{side}"][:-1]] for rule in ("enter", "exit"))
    data = frame(candles)
    orders = {"short_entries": entries, "short_exits": exits} if short else {"entries": entries, "exits": exits}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        portfolio = vbt.Portfolio.from_signals(
            data.Close,
            price=data.Open,
            init_cash=CASH,
            size=1.0,
            size_type="percent",  # all of the cash, long or short
            size_granularity=np.where(entries, step, np.nan),
            fees=commission,
            freq="1h",
            **orders,
        )
    records = portfolio.trades.records
    return records[records.status == 1], portfolio.value().to_numpy()


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("step", [0.001, 0.00001])
def test_fractional_sizes_on_a_step_trade_like_vectorbt_size_granularity(step, commission, short):
    doc = {**load_example("sma_cross"), "sizing": {"step": step}, "costs": {"commission": commission}}
    if short:
        doc["rules"] = SHORT_RULES
    spec = validate_spec(doc)
    candles = generate_candles(4000, "1h", seed=3, start_price=60_000)

    result = run_backtest(spec, candles, CASH)
    ours = result.trades
    theirs, equity = vectorbt_trades(spec, candles, step, commission, short)

    assert len(ours) == len(theirs) > 50
    assert (ours.size < 1).all(), "10,000 buys less than one unit at 60,000: every size is a fraction"
    np.testing.assert_array_equal(ours.entry_bar, theirs.entry_idx)
    np.testing.assert_array_equal(ours.exit_bar, theirs.exit_idx)
    np.testing.assert_array_equal(ours.side, -1 if short else 1)
    np.testing.assert_array_equal(np.rint(ours.size / step), np.rint(theirs["size"].to_numpy() / step))
    np.testing.assert_allclose(ours.size, theirs["size"], rtol=1e-12)
    np.testing.assert_allclose(ours.entry_price, theirs.entry_price, rtol=RTOL)
    np.testing.assert_allclose(ours.exit_price, theirs.exit_price, rtol=RTOL)
    np.testing.assert_allclose(ours.pnl, theirs.pnl, rtol=RTOL, atol=1e-8)
    np.testing.assert_allclose(ours.commission, theirs.entry_fees + theirs.exit_fees, rtol=RTOL, atol=1e-12)
    assert all(Decimal(repr(float(size))) % Decimal(repr(step)) == 0 for size in ours.size)
    np.testing.assert_allclose(result.equity, equity, rtol=RTOL)


def test_at_a_step_of_one_the_same_comparison_gives_whole_units():
    spec = validate_spec(load_example("sma_cross"))
    candles = generate_candles(4000, "1h", seed=3, start_price=100)

    ours = run_backtest(spec, candles, CASH).trades
    theirs, _ = vectorbt_trades(spec, candles, 1, 0.0, short=False)

    assert len(ours) == len(theirs) > 50
    np.testing.assert_array_equal(ours.size, theirs["size"])
    assert (ours.size == np.floor(ours.size)).all()
