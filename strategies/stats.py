"""Backtest statistics from the equity curve and the trades, numpy only.

Every quantity backtesting.py also reports is computed its way (see
``backtesting/_stats.py``), so the two can be compared number for number:
drawdowns relative to the running peak, annualisation from daily returns
compounded over 365 trading days a year when the data has weekends (252 when
not), a geometric mean for the average trade, durations rounded up to the
data's time resolution. Two deliberate differences, both about a position
still open at the end: it counts toward ``exposure_pct`` and its entry
commission toward ``total_commission`` (backtesting.py counts closed trades
only there). Undefined values (no trades, a single day) are NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .domain import Trade, TradeLog

DAY_MS = 86_400_000
_TIME_UNITS_MS = (DAY_MS, 3_600_000, 60_000, 1_000, 1)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is 0 as in pandas' dayofweek

Stats = dict[str, float | int]


def compute_stats(
    ts: np.ndarray,
    close: np.ndarray,
    equity: np.ndarray,
    trades: TradeLog,
    open_trades: Sequence[Trade],
    first_trading_bar: int,
) -> Stats:
    """The stats of one backtest.

    ``equity`` is the account value at each close; ``trades`` the closed round trips;
    ``open_trades`` those still held at the end (marked, not closed). Buy & hold is
    measured from ``first_trading_bar``, the first bar every indicator has a value.
    """
    unit = _time_unit(ts)
    stats: Stats = {
        "start": int(ts[0]),
        "end": int(ts[-1]),
        "duration": int(ts[-1] - ts[0]),
        "exposure_pct": _exposure_pct(len(ts), trades, open_trades),
        "final_equity": float(equity[-1]),
        "peak_equity": float(equity.max()),
        "return_pct": float((equity[-1] - equity[0]) / equity[0] * 100),
        "buy_hold_return_pct": float((close[-1] - close[first_trading_bar]) / close[first_trading_bar] * 100),
    }
    stats.update(_risk_stats(ts, equity, unit))
    stats.update(_trade_stats(trades, unit))
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


def _time_unit(ts: np.ndarray) -> int:
    """The coarsest time unit the bar spacing is a whole number of (backtesting.py's resolution)."""
    spacing = int(np.median(np.diff(ts[-100:]))) if len(ts) > 1 else 1
    return next(unit for unit in _TIME_UNITS_MS if spacing % unit == 0)


def _round_up(ms: float, unit: int) -> float | int:
    return ms if np.isnan(ms) else int(-(-ms // unit) * unit)


def _exposure_pct(n_bars: int, trades: TradeLog, open_trades: Sequence[Trade]) -> float:
    """Share of bars with a position at some point, entry and exit bars included."""
    entry = np.concatenate([trades.entry_bar, [trade.entry_bar for trade in open_trades]]).astype(np.int64)
    exit_ = np.concatenate([trades.exit_bar, [n_bars - 1] * len(open_trades)]).astype(np.int64)
    shared = np.count_nonzero(entry[1:] == exit_[:-1])  # a bar that closed one trade and opened the next
    return float((np.sum(exit_ - entry + 1) - shared) / n_bars * 100)


def _geometric_mean(returns: np.ndarray) -> float:
    growth = np.nan_to_num(returns) + 1
    if np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).sum() / (len(growth) or np.nan)) - 1)


def _daily_returns(ts: np.ndarray, equity: np.ndarray) -> tuple[np.ndarray, float]:
    """Returns between the last equity of each calendar day (UTC), and trading days per year."""
    days = np.arange(ts[0] // DAY_MS, ts[-1] // DAY_MS + 1)
    ends = np.searchsorted(ts, (days + 1) * DAY_MS)  # ts is sorted: one past each day's last bar
    present = np.r_[ends[0] > 0, ends[1:] > ends[:-1]]
    days, ends = days[present], ends[present]
    bars_per_day = np.diff(np.r_[0, ends])
    weekend_share = bars_per_day[(days + _EPOCH_WEEKDAY) % 7 >= 5].sum() / len(ts)
    closes = equity[ends - 1]
    return closes[1:] / closes[:-1] - 1, (365 if weekend_share > 2 / 7 * 0.6 else 252)


def _risk_stats(ts: np.ndarray, equity: np.ndarray, unit: int) -> Stats:
    returns, days_per_year = _daily_returns(ts, equity)
    growth = np.float64(1 + _geometric_mean(returns))  # numpy floats: x / 0 is inf or NaN, not an exception
    drawdown = 1 - equity / np.maximum.accumulate(equity)
    max_drawdown = drawdown.max()
    durations, depths = _drawdowns(ts, drawdown)
    years = (ts[-1] - ts[0]) // 1000 / 86_400 / 365.25
    with np.errstate(all="ignore"):  # a single day, a flat curve: NaN and inf are the answers
        annual = growth**days_per_year - 1
        variance = returns.var(ddof=1) if len(returns) > 1 else np.nan
        volatility = np.sqrt((variance + growth**2) ** days_per_year - growth ** (2 * days_per_year))
        downside = np.sqrt(np.mean(np.minimum(returns, 0) ** 2)) if len(returns) else np.nan
        return {
            "return_ann_pct": float(annual * 100),
            "volatility_ann_pct": float(volatility * 100),
            "cagr_pct": float(((equity[-1] / equity[0]) ** (1 / years) - 1) * 100) if years else np.nan,
            "sharpe": float(annual / (volatility or np.nan)),
            "sortino": float(annual / (downside * np.sqrt(days_per_year))),
            "calmar": float(annual / (max_drawdown or np.nan)),
            "max_drawdown_pct": float(-max_drawdown * 100),
            "avg_drawdown_pct": float(-depths.mean() * 100) if len(depths) else np.nan,
            "max_drawdown_duration": _round_up(float(durations.max()) if len(durations) else np.nan, unit),
        }


def _drawdowns(ts: np.ndarray, drawdown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Duration and depth of each drawdown: a stretch between two new equity peaks (or the end)."""
    bounds = np.unique(np.r_[np.flatnonzero(drawdown == 0), len(drawdown) - 1])
    start, end = bounds[:-1], bounds[1:]
    underwater = end > start + 1
    start, end = start[underwater], end[underwater]
    if not len(start):
        return np.empty(0, np.int64), np.empty(0)
    # maximum.reduceat over [start, end] pairs; the odd results (between drawdowns) are dropped
    edges = np.column_stack([start, end + 1]).ravel()
    depths = np.maximum.reduceat(np.r_[drawdown, 0.0], edges)[::2]
    return ts[end] - ts[start], depths


def _trade_stats(trades: TradeLog, unit: int) -> Stats:
    returns = trades.return_fractions()
    any_trades = len(trades) > 0
    gains, losses = returns[returns > 0].sum(), returns[returns < 0].sum()
    return {
        "n_trades": len(trades),
        "win_rate_pct": float(np.mean(trades.pnl > 0) * 100) if any_trades else np.nan,
        "best_trade_pct": float(returns.max() * 100) if any_trades else np.nan,
        "worst_trade_pct": float(returns.min() * 100) if any_trades else np.nan,
        "avg_trade_pct": _geometric_mean(returns) * 100,
        "avg_holding_time": _round_up(
            float(np.mean(trades.exit_ts - trades.entry_ts)) if any_trades else np.nan, unit
        ),
        "profit_factor": float(gains / (abs(losses) or np.nan)),
        "expectancy_pct": float(returns.mean() * 100) if any_trades else np.nan,
    }
