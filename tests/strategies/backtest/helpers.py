"""Hand-made backtests: a few bars, the bars each rule fires on, and the strategy's settings.

The rules are real spec rules going through the whole engine: each bar's volume carries
one bit per rule (1 enter_long, 2 exit_long, 4 enter_short, 8 exit_short) and each rule
tests its bit, so a test says on which bars a rule holds and reads the trades back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from strategies.backtest import BacktestResult, run_backtest
from strategies.candles import TIMEFRAME_MS, Candles
from strategies.spec import StrategySpec, validate_spec

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE = TIMEFRAME_MS["1m"]
RULE_BITS = {"enter_long": 1, "exit_long": 2, "enter_short": 4, "exit_short": 8}

Bar = float | tuple[float, float, float, float]
"""A bar as (open, high, low, close), or a single price for a bar that never moves."""


def flag_spec(**fields: Any) -> StrategySpec:
    """A strategy whose rules read their bit of the volume; ``fields`` adds risk, sizing, costs..."""
    rules = {
        name: " or ".join(f"volume == {code}" for code in range(16) if code & bit) for name, bit in RULE_BITS.items()
    }
    return validate_spec({"name": "flags", "symbols": ["TEST"], "timeframe": "1m", "rules": rules, **fields})


def flag_candles(bars: Sequence[Bar], **rule_bars: Iterable[int]) -> Candles:
    """One-minute candles from ``bars``; ``enter_long=[2]`` makes that rule true on bar 2."""
    ohlc = np.array([bar if isinstance(bar, tuple) else (bar,) * 4 for bar in bars], dtype=np.float64)
    volume = np.zeros(len(bars))
    for rule, indices in rule_bars.items():
        volume[list(indices)] += RULE_BITS[rule]
    ts = START_MS + MINUTE * np.arange(len(bars), dtype=np.int64)
    return Candles(ts, *ohlc.T.copy(), volume)


def backtest(bars: Sequence[Bar], cash: float = 1_050, indicators: dict | None = None, **fields: Any) -> BacktestResult:
    """Run ``flag_spec`` on ``flag_candles``: rule bars go to the candles, everything else to the spec.

    The default cash buys exactly 10 units at 100 (backtesting.py keeps a hair of equity back,
    so 1_000 would buy 9).
    """
    rule_bars = {name: fields.pop(name) for name in RULE_BITS if name in fields}
    spec = flag_spec(**fields, **({"indicators": indicators} if indicators else {}))
    return run_backtest(spec, flag_candles(bars, **rule_bars), cash=cash)


def trade_tuples(result: BacktestResult) -> list[tuple]:
    """(side, size, entry bar, entry price, exit bar, exit price, exit reason) of each closed trade."""
    return [
        (t.side.label, t.size, t.entry_bar, t.entry_price, t.exit_bar, t.exit_price, t.exit_reason.value)
        for t in result.trades
    ]
