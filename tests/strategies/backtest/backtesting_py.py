"""The reference: the same strategies written for backtesting.py, run the way the parity tests compare.

Each strategy is what a backtesting.py user would write: indicators through ``self.I`` (so
its warm-up is backtesting.py's own), ``self.buy()`` when flat on the entry signal and
``self.position.close()`` on the exit signal. Stops and targets are absolute prices in
backtesting.py; TickFlow's are fractions of the entry price, so the reference peeks at the
next bar's open (where the order will fill) to place the same levels; a trailing stop is
its stop-loss, raised after each bar to the trailing level.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import talib
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

from strategies.backtest import BacktestResult
from strategies.candles import Candles

RTOL = 1e-9


def frame(candles: Candles) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=pd.to_datetime(candles.ts, unit="ms"),
    )


def run_reference(candles: Candles, strategy: type[Strategy], commission: float, **params) -> pd.Series:
    """backtesting.py's stats for ``strategy`` on ``candles`` with 10_000 cash, as the parity tests set it up."""
    data = frame(candles)
    backtest = Backtest(
        data, strategy, cash=10_000, commission=commission, trade_on_close=False, exclusive_orders=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trades left open at the end
        return backtest.run(opens=candles.open, **params)


def times_ms(times: pd.Series) -> np.ndarray:
    return times.to_numpy().astype("datetime64[ms]").astype(np.int64)


def assert_same_trades(ours: BacktestResult, reference: pd.Series) -> None:
    theirs = reference["_trades"]
    trades = ours.trades
    assert len(trades) == len(theirs) > 0
    np.testing.assert_array_equal(trades.entry_bar, theirs.EntryBar)
    np.testing.assert_array_equal(trades.exit_bar, theirs.ExitBar)
    np.testing.assert_array_equal(trades.entry_ts, times_ms(theirs.EntryTime))
    np.testing.assert_array_equal(trades.exit_ts, times_ms(theirs.ExitTime))
    np.testing.assert_array_equal(trades.side * trades.size, theirs.Size)  # signed there
    np.testing.assert_allclose(trades.entry_price, theirs.EntryPrice, rtol=RTOL)
    np.testing.assert_allclose(trades.exit_price, theirs.ExitPrice, rtol=RTOL)
    np.testing.assert_allclose(trades.pnl, theirs.PnL, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(trades.commission, theirs.Commission, rtol=RTOL)
    np.testing.assert_allclose(trades.return_fractions(), theirs.ReturnPct, rtol=RTOL, atol=1e-12)


class _Bracketed(Strategy):
    """Entries on one side, with optional sizing, stop-loss, take-profit and trailing stop.

    ``fraction`` is the share of equity to buy (backtesting.py's all-but-a-hair default when
    None); the risk settings are fractions of the entry price, as in a TickFlow spec.
    """

    short = False
    fraction: float | None = None
    opens: np.ndarray | None = None
    """Every bar's open, for placing stops and targets; not needed without them."""
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None

    def enter(self) -> None:
        order = partial(self.sell if self.short else self.buy, **({"size": self.fraction} if self.fraction else {}))
        if not (self.stop_loss or self.take_profit or self.trailing_stop):
            order()
            return
        next_bar = len(self.data)
        if next_bar == len(self.opens):
            return  # a signal on the last bar never fills
        entry, sign = self.opens[next_bar], -1 if self.short else 1
        stops = [entry * (1 - sign * fraction) for fraction in (self.stop_loss, self.trailing_stop) if fraction]
        order(
            sl=(min if self.short else max)(stops) if stops else None,
            tp=entry * (1 + sign * self.take_profit) if self.take_profit else None,
        )

    def trail(self) -> None:
        if not self.trailing_stop:
            return
        for trade in self.trades:
            if self.short:
                best = min(trade.entry_price, self.data.Low[trade.entry_bar :].min())
                trade.sl = min(trade.sl or np.inf, best * (1 + self.trailing_stop))
            else:
                best = max(trade.entry_price, self.data.High[trade.entry_bar :].max())
                trade.sl = max(trade.sl or -np.inf, best * (1 - self.trailing_stop))

    def next(self) -> None:
        self.trail()
        if not self.position:
            if self.entry_signal():
                self.enter()
        elif self.exit_signal():
            self.position.close()

    def entry_signal(self) -> bool:
        raise NotImplementedError

    def exit_signal(self) -> bool:
        raise NotImplementedError


class SmaCross(_Bracketed):
    """Long while the fast SMA is above the slow one; with ``short``, short while it is below."""

    fast = 10
    slow = 20

    def init(self) -> None:
        close = np.asarray(self.data.Close, dtype=np.float64)
        self.fast_sma = self.I(talib.SMA, close, self.fast)
        self.slow_sma = self.I(talib.SMA, close, self.slow)

    def entry_signal(self) -> bool:
        return crossover(self.slow_sma, self.fast_sma) if self.short else crossover(self.fast_sma, self.slow_sma)

    def exit_signal(self) -> bool:
        return crossover(self.fast_sma, self.slow_sma) if self.short else crossover(self.slow_sma, self.fast_sma)


class RsiReversion(_Bracketed):
    period = 14
    oversold = 30
    overbought = 70

    def init(self) -> None:
        self.rsi = self.I(talib.RSI, np.asarray(self.data.Close, dtype=np.float64), self.period)

    def entry_signal(self) -> bool:
        return crossover(self.rsi, self.oversold)

    def exit_signal(self) -> bool:
        return crossover(self.overbought, self.rsi)
