"""Columnar OHLCV bars: the one candle container shared by storage, backtests and the live engine.

Timestamps are the candle's *open* time in epoch milliseconds (int64, UTC),
ascending and unique; prices and volume are float64. Columns rather than
objects because every consumer (TA-Lib, the simulator, MongoDB buckets)
works on whole arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

TIMEFRAME_MS: dict[str, int] = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}
SYMBOL_PATTERN = re.compile(r"[A-Z0-9._-]{1,30}")
"""An instrument symbol as the platform stores it: upper case, as exchanges print them (``BTCUSDT``)."""
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
COLUMNS = ("ts", *PRICE_COLUMNS)


@dataclass(frozen=True, eq=False)
class Candles:
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in PRICE_COLUMNS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name!r} has {len(getattr(self, name))} values, ts has {n}")

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> Candles:
        return cls(np.empty(0, np.int64), *(np.empty(0, np.float64) for _ in PRICE_COLUMNS))

    @classmethod
    def from_columns(cls, columns: dict[str, np.ndarray]) -> Candles:
        """Build from any array-likes, converting to int64 / float64."""
        return cls(
            np.ascontiguousarray(columns["ts"], dtype=np.int64),
            *(np.ascontiguousarray(columns[name], dtype=np.float64) for name in PRICE_COLUMNS),
        )

    def ohlcv(self) -> dict[str, np.ndarray]:
        """The price series by name, as indicators and rules address them."""
        return {name: getattr(self, name) for name in PRICE_COLUMNS}

    def between(self, start_ms: int | None = None, end_ms: int | None = None) -> Candles:
        """Candles with ``start_ms <= ts < end_ms`` (either bound optional)."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts, start_ms, "left"))
        hi = len(self.ts) if end_ms is None else int(np.searchsorted(self.ts, end_ms, "left"))
        return self.slice(lo, hi)

    def slice(self, lo: int | None, hi: int | None) -> Candles:
        """Candles ``lo`` up to (not including) ``hi`` by position, as Python slices count (negatives too)."""
        return Candles(*(getattr(self, name)[lo:hi] for name in COLUMNS))


def period_starts(ts: np.ndarray, period_ms: int) -> np.ndarray:
    """Index of the first bar of each period of ``period_ms`` (counted from the epoch) that has bars."""
    period = ts // period_ms
    return np.flatnonzero(np.r_[True, period[1:] != period[:-1]]) if len(ts) else np.empty(0, np.int64)


def group_ends(firsts: np.ndarray, n: int) -> np.ndarray:
    """Index of the last bar of each group, given each group's first (``period_starts``) and the bar count."""
    return np.r_[firsts[1:] - 1, n - 1] if len(firsts) else np.empty(0, np.int64)


def resample(candles: Candles, period_ms: int) -> Candles:
    """Candles merged into periods of ``period_ms`` aligned on the epoch (a day starts at 00:00 UTC).

    OHLCV rules: the first open, the highest high, the lowest low, the last close and the summed
    volume; a merged candle's time is its period's start. Periods without bars are left out, and a
    period the bars cover only in part merges the bars it has.
    """
    firsts = period_starts(candles.ts, period_ms)
    if not len(firsts):
        return Candles.empty()
    return Candles(
        candles.ts[firsts] // period_ms * period_ms,
        candles.open[firsts],
        np.maximum.reduceat(candles.high, firsts),
        np.minimum.reduceat(candles.low, firsts),
        candles.close[group_ends(firsts, len(candles))],
        np.add.reduceat(candles.volume, firsts),
    )


def merge_period(ts: np.ndarray, bar_ms: int, max_bars: int) -> int:
    """The shortest period, a whole number of bars of ``bar_ms``, that merges bars at ``ts`` into at most
    ``max_bars`` candles (``bar_ms`` itself when they are no more than that)."""
    if len(ts) <= max_bars:
        return bar_ms
    multiple = max(1, -(-int((ts[-1] - ts[0]) // bar_ms + 1) // max_bars))
    # Alignment on the epoch can cut the range into one period more than the quotient says.
    while len(period_starts(ts, multiple * bar_ms)) > max_bars:
        multiple += 1
    return multiple * bar_ms
