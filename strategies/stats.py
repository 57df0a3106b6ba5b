"""Backtest statistics from the equity curve and the trades.

Every quantity backtesting.py also reports is computed its way (see
``backtesting/_stats.py``), so the two can be compared number for number:
drawdowns relative to the running peak, annualisation from daily returns
compounded over 365 trading days a year when the data has weekends (252 when
not), a geometric mean for the average trade, durations rounded up to the
data's time resolution. Two deliberate differences, both about a position
still open at the end: it counts toward ``exposure_pct`` and its entry
commission toward ``total_commission`` (backtesting.py counts closed trades
only there). Undefined values (no trades, a single day) are NaN.

A sweep computes stats for every parameter set on the same bars, so what
depends on the bar times alone (the calendar days, the time unit, the length
in years) is a ``Calendar``, worked out once per history and passed in; the
rest is one compiled pass over the curve and one over the trades (numba: on a
few thousand bars, numpy's fixed cost per call was most of a sweep's time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from .domain import Trade, TradeLog

DAY_MS = 86_400_000
_TIME_UNITS_MS = (DAY_MS, 3_600_000, 60_000, 1_000, 1)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is 0 as in pandas' dayofweek

Stats = dict[str, float | int]


@dataclass(frozen=True, eq=False)
class Calendar:
    """What the stats read from the bar times alone: the same for every backtest on one history."""

    unit: int
    """The coarsest time unit (ms) the bar spacing is a whole number of; durations are rounded up to it
    (backtesting.py's resolution)."""
    day_ends: np.ndarray
    """Index of the last bar of each calendar day (UTC) that has bars: daily returns are taken between them."""
    days_per_year: int
    """365 when at least 60% of the expected share of weekend bars is present (crypto), else 252."""
    years: float
    """From the first bar to the last, in years of 365.25 days (whole seconds, as backtesting.py counts)."""

    @classmethod
    def of(cls, ts: np.ndarray) -> Calendar:
        """The calendar of bars opening at ``ts`` (epoch ms, ascending)."""
        spacing = int(np.median(np.diff(ts[-100:]))) if len(ts) > 1 else 1
        days = np.arange(ts[0] // DAY_MS, ts[-1] // DAY_MS + 1)
        ends = np.searchsorted(ts, (days + 1) * DAY_MS)  # one past each day's last bar
        present = np.r_[ends[0] > 0, ends[1:] > ends[:-1]]
        days, ends = days[present], ends[present]
        bars_per_day = np.diff(np.r_[0, ends])
        weekend_share = bars_per_day[(days + _EPOCH_WEEKDAY) % 7 >= 5].sum() / len(ts)
        return cls(
            unit=next(unit for unit in _TIME_UNITS_MS if spacing % unit == 0),
            day_ends=ends - 1,
            days_per_year=365 if weekend_share > 2 / 7 * 0.6 else 252,
            years=(ts[-1] - ts[0]) // 1000 / 86_400 / 365.25,
        )


def compute_stats(
    ts: np.ndarray,
    close: np.ndarray,
    equity: np.ndarray,
    trades: TradeLog,
    open_trades: Sequence[Trade],
    first_trading_bar: int,
    calendar: Calendar | None = None,
) -> Stats:
    """The stats of one backtest.

    ``equity`` is the account value at each close; ``trades`` the closed round trips;
    ``open_trades`` those still held at the end (marked, not closed). Buy & hold is
    measured from ``first_trading_bar``, the first bar every indicator has a value.
    ``calendar`` is ``Calendar.of(ts)``, for callers that run many backtests on one history.
    """
    if calendar is None:
        calendar = Calendar.of(ts)
    initial, final = float(equity[0]), float(equity[-1])
    stats: Stats = {
        "start": int(ts[0]),
        "end": int(ts[-1]),
        "duration": int(ts[-1] - ts[0]),
        "exposure_pct": _exposure_pct(len(ts), trades, open_trades),
        "final_equity": final,
        "peak_equity": float(equity.max()),
        "return_pct": (final - initial) / initial * 100,
        "buy_hold_return_pct": float((close[-1] - close[first_trading_bar]) / close[first_trading_bar] * 100),
    }
    stats.update(_risk_stats(ts, equity, calendar))
    stats.update(_trade_stats(trades, calendar.unit))
    stats["total_commission"] = float(trades.commission.sum() + sum(trade.commission for trade in open_trades))
    return stats


def chart_indices(values: np.ndarray, max_points: int = 1000) -> np.ndarray:
    """Indices of at most ``max_points`` values that draw like the whole series.

    Min-max decimation: the series is cut into equal buckets and each keeps its lowest
    and highest point, so every peak and trough (every drawdown) survives; the first
    and last points are always kept.
    """
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    width = -(-n // ((max_points - 2) // 2))
    whole = n // width * width
    buckets = values[:whole].reshape(-1, width)
    starts = np.arange(0, whole, width)
    picks = [starts + buckets.argmin(axis=1), starts + buckets.argmax(axis=1), [0, n - 1]]
    if whole < n:
        tail = values[whole:]
        picks.append([whole + tail.argmin(), whole + tail.argmax()])
    return np.unique(np.concatenate(picks))


def _round_up(ms: float, unit: int) -> float | int:
    return ms if np.isnan(ms) else int(-(-ms // unit) * unit)


def _exposure_pct(n_bars: int, trades: TradeLog, open_trades: Sequence[Trade]) -> float:
    """Share of bars with a position at some point, entry and exit bars included."""
    entry, exit_ = trades.entry_bar, trades.exit_bar
    if open_trades:
        entry = np.append(entry, [trade.entry_bar for trade in open_trades])
        exit_ = np.append(exit_, [n_bars - 1] * len(open_trades))
    shared = np.count_nonzero(entry[1:] == exit_[:-1])  # a bar that closed one trade and opened the next
    return float(((exit_ - entry + 1).sum() - shared) / n_bars * 100)


def _risk_stats(ts: np.ndarray, equity: np.ndarray, calendar: Calendar) -> Stats:
    days_per_year = calendar.days_per_year
    mean_growth, variance, downside = _daily_figures(equity, calendar.day_ends)
    max_drawdown, avg_drawdown, longest_drawdown = _drawdown_figures(ts, equity)
    growth = np.float64(1 + mean_growth)  # numpy floats: x / 0 is inf or NaN, not an exception
    with np.errstate(all="ignore"):  # a single day, a flat curve: NaN and inf are the answers
        annual = growth**days_per_year - 1
        volatility = np.sqrt((variance + growth**2) ** days_per_year - growth ** (2 * days_per_year))
        growth_total = equity[-1] / equity[0]
        return {
            "return_ann_pct": float(annual * 100),
            "volatility_ann_pct": float(volatility * 100),
            "cagr_pct": float((growth_total ** (1 / calendar.years) - 1) * 100) if calendar.years else np.nan,
            "sharpe": float(annual / (volatility or np.nan)),
            "sortino": float(annual / (downside * np.sqrt(days_per_year))),
            "calmar": float(annual / (max_drawdown or np.nan)),
            "max_drawdown_pct": -max_drawdown * 100,
            "avg_drawdown_pct": -avg_drawdown * 100,
            "max_drawdown_duration": _round_up(longest_drawdown, calendar.unit),
        }


def _trade_stats(trades: TradeLog, unit: int) -> Stats:
    n = len(trades)
    wins, best, worst, mean_growth, mean, gains, losses, holding = _trade_figures(
        trades.return_fractions(), trades.pnl, trades.entry_ts, trades.exit_ts
    )
    return {
        "n_trades": n,
        "win_rate_pct": wins / n * 100 if n else np.nan,
        "best_trade_pct": best * 100,
        "worst_trade_pct": worst * 100,
        "avg_trade_pct": mean_growth * 100,
        "avg_holding_time": _round_up(holding, unit),
        "profit_factor": gains / (abs(losses) or np.nan),
        "expectancy_pct": mean * 100,
    }


# -- one pass over a curve or a trade list (compiled) ----------------------------------------

_kernel = njit(cache=True, error_model="numpy")
"""How the loops below are compiled. On a sweep's few thousand bars, each numpy call costs more
in fixed overhead than in work, and the figures below took a few dozen of them per backtest;
one compiled pass takes a few microseconds. ``error_model="numpy"``: x / 0 is inf or NaN, as
in numpy, not an exception."""


@_kernel
def _geometric_mean(returns):
    """backtesting.py's: NaN returns count as 0; a loss of everything (or more) makes it 0; NaN for no returns."""
    log_growth = 0.0
    for r in returns:
        growth = 1.0 if np.isnan(r) else r + 1.0
        if growth <= 0.0:
            return 0.0
        log_growth += np.log(growth)
    return np.exp(log_growth / len(returns)) - 1.0 if len(returns) else np.nan


@_kernel
def _daily_figures(equity, day_ends):
    """Of the returns between the last equity of consecutive days: (geometric mean, sample variance,
    root mean square of the losses), NaN where there are too few."""
    n = len(day_ends) - 1
    returns = np.empty(n)
    for k in range(n):
        returns[k] = equity[day_ends[k + 1]] / equity[day_ends[k]] - 1.0
    mean = returns.sum() / n if n else np.nan
    squares = downside = 0.0
    for r in returns:
        squares += (r - mean) ** 2
        downside += np.minimum(r, 0.0) ** 2
    variance = squares / (n - 1) if n > 1 else np.nan
    return _geometric_mean(returns), variance, np.sqrt(downside / n) if n else np.nan


@_kernel
def _drawdown_figures(ts, equity):
    """(deepest drawdown, mean depth of the drawdowns, duration in ms of the longest; NaN where there are none).

    The drawdown at a bar is ``1 - equity / running peak``. A drawdown is a stretch from a bar
    at the peak to the next one (or to the last bar) with at least one bar under water between
    them; its depth is the deepest point of the stretch, its duration the time between its ends.
    """
    peak = equity[0]
    deepest = depth = total_depth = 0.0
    count = longest = 0
    start = 0  # the last bar at the peak
    last = len(equity) - 1
    for i in range(last + 1):
        peak = max(peak, equity[i])
        drawdown = 1.0 - equity[i] / peak
        deepest = max(deepest, drawdown)
        depth = max(depth, drawdown)
        if drawdown == 0.0 or i == last:
            if i > start + 1:
                count += 1
                total_depth += depth
                longest = max(longest, ts[i] - ts[start])
            start, depth = i, 0.0
    if not count:
        return deepest, np.nan, np.nan
    return deepest, total_depth / count, float(longest)


@_kernel
def _trade_figures(returns, pnl, entry_ts, exit_ts):
    """(winners, best return, worst, geometric mean, arithmetic mean, sum of the gains, sum of the losses,
    mean holding time in ms); NaN where there are no trades. A winner has PnL > 0."""
    n = len(returns)
    if not n:
        return 0, np.nan, np.nan, np.nan, np.nan, 0.0, 0.0, np.nan
    wins = held = 0
    best, worst = -np.inf, np.inf
    total = gains = losses = 0.0
    for k in range(n):
        r = returns[k]
        wins += pnl[k] > 0.0
        best, worst = max(best, r), min(worst, r)
        total += r
        if r > 0.0:
            gains += r
        elif r < 0.0:
            losses += r
        held += exit_ts[k] - entry_ts[k]
    return wins, best, worst, _geometric_mean(returns), total / n, gains, losses, held / n
