"""Lockstep replay: never let the feed run ahead of the live pipeline, so a replay is deterministic.

Live, a strategy's decision at a candle close races the next ticks; a
replay sending as fast as it can would let the pipeline see several candles
before it has acted on the first, and fills would depend on timing. In
lockstep the replay, after each tick that closes a candle, flushes the
publisher and waits until the pipeline marks that candle processed
(``tickflow.live.progress``), so orders decided at a close fill at the next
candle's open, as in a backtest.
"""

from __future__ import annotations

import asyncio
import time

import redis

from strategies.domain import iso_time
from tickflow.live.progress import wait_candle_processed
from workers.feeds.publisher import BatchPublisher

WAIT_SLICE_S = 0.5


class LockstepTimeout(RuntimeError):
    """The pipeline did not report a candle processed in time; the message is one line."""


class Lockstep:
    """A ``ReplayFeed`` checkpoint: flush ``publisher``, then wait for the pipeline to process the closed candle."""

    def __init__(self, publisher: BatchPublisher, client: redis.Redis, timeframe: str, timeout_s: float = 60.0) -> None:
        self.publisher = publisher
        self.client = client
        self.timeframe = timeframe
        self.timeout_s = timeout_s

    async def __call__(self, symbol: str, candle_open_ms: int) -> None:
        await self.publisher.flush()
        deadline = time.monotonic() + self.timeout_s
        while not await self._wait(symbol, candle_open_ms, deadline - time.monotonic()):
            if time.monotonic() >= deadline:
                raise LockstepTimeout(
                    f"lockstep: the live pipeline did not report the {symbol} {self.timeframe} candle of "
                    f"{iso_time(candle_open_ms)} processed within {self.timeout_s:g} s "
                    "(is the ingest worker running?)")

    async def _wait(self, symbol: str, candle_open_ms: int, remaining_s: float) -> bool:
        """Poll for at most ``WAIT_SLICE_S`` on a thread: a thread cannot be cancelled, and the feed must stop
        promptly on SIGTERM."""
        slice_s = min(WAIT_SLICE_S, max(0.0, remaining_s))
        return await asyncio.to_thread(
            wait_candle_processed, self.client, symbol, self.timeframe, candle_open_ms, slice_s)
