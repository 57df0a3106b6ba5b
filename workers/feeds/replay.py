"""Replaying stored candles as ticks: paper-trading rehearsals, and parity between backtests and the live engine.

Each candle becomes four ticks, a path through its prices:

* bullish (``close >= open``): open → low → high → close
* bearish (``close < open``):  open → high → low → close

the usual convention (a bar that ends up went down first), which is also
what a stop or target inside the bar is assumed to meet first. The ticks
are stamped at the candle's open time plus 0, ⌊tf/3⌋, ⌊2·tf/3⌋ and tf − 1 ms,
so all four fall inside the candle and the close is its last trade. Their
quantities are 1/8, 1/8, 1/4 and 1/2 of the candle's volume: each running
sum is then exact in floating point, so a pipeline that adds up the
quantities rebuilds the stored volume bit for bit, as it rebuilds the
open, high, low and close.

Several symbols are merged by time (ties in the order the symbols were
given). A candle is closed by the first tick of the next one, as live, so
the last candle of a replay stays open.

Pacing: ``speed`` 1.0 is real time, 60 plays an hour of candles in a
minute, 0 sends as fast as the publisher takes them. With a ``checkpoint``
(lockstep, see ``workers.feeds.lockstep``) the replay stops after each tick
that closes a candle until the checkpoint returns, and its clock restarts
from there, so waiting never turns into a burst of catching up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import numpy as np

from strategies.candles import TIMEFRAME_MS, Candles
from strategies.domain import Tick
from workers.feeds.base import MAX_GROUP
from workers.feeds.pacing import Pacer

TICKS_PER_CANDLE = 4
QTY_SHARES = (1 / 8, 1 / 8, 1 / 4, 1 / 2)

Checkpoint = Callable[[str, int], Awaitable[None]]
"""Called as ``checkpoint(symbol, open time of the candle just closed)`` after the tick that closed it."""


def candle_path(candles: Candles, timeframe: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ticks of ``candles`` as ``(ts, price, qty)`` columns, four per candle, in the order above."""
    step = TIMEFRAME_MS[timeframe]
    bullish = candles.close >= candles.open
    first = np.where(bullish, candles.low, candles.high)
    second = np.where(bullish, candles.high, candles.low)
    price = np.column_stack((candles.open, first, second, candles.close)).ravel()
    offsets = np.array([0, step // 3, 2 * step // 3, step - 1], dtype=np.int64)
    ts = (candles.ts[:, None] + offsets).ravel()
    qty = (candles.volume[:, None] * np.array(QTY_SHARES)).ravel()
    return ts, price, qty


class ReplayFeed:
    """Ticks from ``candles`` (by symbol, all of ``timeframe``) at ``speed``, optionally in lockstep."""

    name = "replay"

    def __init__(
        self, candles: Mapping[str, Candles], timeframe: str, speed: float = 1.0, checkpoint: Checkpoint | None = None
    ) -> None:
        if timeframe not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {timeframe!r}: use one of {', '.join(TIMEFRAME_MS)}")
        if not candles:
            raise ValueError("at least one symbol is needed")
        self.symbols = list(candles)
        self.timeframe = timeframe
        self.pacer = Pacer(speed)
        self.checkpoint = checkpoint
        columns = [self._symbol_columns(index, series) for index, series in enumerate(candles.values())]
        which, ts, price, qty, closes = (np.concatenate(parts) for parts in zip(*columns))
        order = np.lexsort((which, ts))  # by time, then by the order the symbols were given
        self._which, self._ts, self._price, self._qty = which[order], ts[order], price[order], qty[order]
        self._closes = closes[order]  # per tick: the open time of the candle it closes, or -1

    def __len__(self) -> int:
        return len(self._ts)

    def _symbol_columns(self, index: int, candles: Candles) -> tuple[np.ndarray, ...]:
        ts, price, qty = candle_path(candles, self.timeframe)
        closes = np.full(len(ts), -1, dtype=np.int64)
        closes[TICKS_PER_CANDLE::TICKS_PER_CANDLE] = candles.ts[:-1]
        return np.full(len(ts), index, dtype=np.int64), ts, price, qty, closes

    async def ticks(self) -> AsyncIterator[list[Tick]]:
        total = len(self._ts)
        stops = np.flatnonzero(self._closes >= 0) if self.checkpoint else np.empty(0, np.int64)
        if total:
            self.pacer.anchor(int(self._ts[0]))
        start = 0
        while start < total:
            end = min(int(np.searchsorted(self._ts, self.pacer.due_ms(), "right")), start + MAX_GROUP)
            if end <= start:
                await self.pacer.wait_until(int(self._ts[start]))
                continue
            next_stop = np.searchsorted(stops, start)
            stop_here = next_stop < len(stops) and stops[next_stop] < end
            if stop_here:
                end = int(stops[next_stop]) + 1
            yield self._group(start, end)
            start = end
            if stop_here:
                closing = end - 1
                await self.checkpoint(self.symbols[self._which[closing]], int(self._closes[closing]))
                self.pacer.anchor(int(self._ts[closing]))

    def _group(self, start: int, end: int) -> list[Tick]:
        symbols = self.symbols
        return [
            Tick(symbols[s], t, p, q)
            for s, t, p, q in zip(
                self._which[start:end].tolist(),
                self._ts[start:end].tolist(),
                self._price[start:end].tolist(),
                self._qty[start:end].tolist(),
            )
        ]
