"""The curves a backtest's result page draws beside its equity: buy and hold, drawdown, returns by month.

All three are cheap numpy over whole arrays, computed once when a run is stored
(``backtests.jobs``). The semantics are written down in docs/backtesting.md,
"Result curves".
"""

from __future__ import annotations

import numpy as np

from .spec_parts import Costs

MONTHS = 12


def buy_and_hold(open_: np.ndarray, close: np.ndarray, cash: float, costs: Costs) -> np.ndarray:
    """The value at every close of ``cash`` put into the symbol at the first bar's open.

    Bought as the engine buys an entry: at the open moved by the slippage, the commission paid
    on the traded value, all of the cash in (in fractions of a unit: a benchmark has no
    quantity step). Never sold, so no exit commission: the value is the units held times the
    close.
    """
    price = float(open_[0]) * (1.0 + costs.slippage)
    units = cash / (price * (1.0 + costs.commission))
    return units * np.asarray(close, dtype=np.float64)


def drawdown(equity: np.ndarray) -> np.ndarray:
    """``equity / running peak - 1`` at every point: 0 at a new high, -0.25 a quarter below the peak."""
    return equity / np.maximum.accumulate(equity) - 1.0


def monthly_returns(ts: np.ndarray, equity: np.ndarray) -> list[dict]:
    """Returns per calendar month (UTC) and per year, as fractions, one entry per year with bars.

    A month's return runs from the equity at the last close of the month before that has bars
    (the first close, for the first month) to the equity at its own last close; a year's, the
    same from the end of the year before. ``months`` holds twelve values, ``None`` for a month
    without bars: ``[{"year": 2024, "months": [0.012, None, ...], "total": 0.034}]``.
    """
    if not len(ts):
        return []
    months = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    ends = np.r_[np.flatnonzero(months[1:] != months[:-1]), len(ts) - 1]
    month, value = months[ends], equity[ends]
    returns = value / np.r_[equity[0], value[:-1]] - 1.0
    year = month // MONTHS
    year_ends = np.r_[np.flatnonzero(year[1:] != year[:-1]), len(year) - 1]
    totals = value[year_ends] / np.r_[equity[0], value[year_ends[:-1]]] - 1.0
    table = []
    for index, (first, last) in enumerate(zip(np.r_[0, year_ends[:-1] + 1], year_ends, strict=True)):
        row: list[float | None] = [None] * MONTHS
        for k in range(first, last + 1):
            row[int(month[k] % MONTHS)] = _number(returns[k])
        table.append({"year": 1970 + int(year[last]), "months": row, "total": _number(totals[index])})
    return table


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
