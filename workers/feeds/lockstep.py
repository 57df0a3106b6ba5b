"""Lockstep replay: never let the feed run ahead of the live pipeline, so a replay is deterministic.

Live, a strategy's decision at a candle close races the next ticks; a
replay sending as fast as it can would let the pipeline see several candles
before it has acted on the first, and fills would depend on timing. In
lockstep the replay, after each tick that closes a candle, flushes the
publisher and waits until the pipeline marks that candle processed
(``workers.progress``), so orders decided at a close fill at the next
candle's open, as in a backtest.

The very first batch is special: it closes nothing, so there is no close to wait on,
and a second batch sent right after it could be applied first by another worker
process, making the first one's ticks late. So after the first batch goes out the
publisher's sender waits (``wait_candle_open``) until that batch is visible in Redis
before it sends anything else.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis

from strategies.candles import TIMEFRAME_MS
from strategies.domain import iso_time
from workers.feeds.publisher import BatchPublisher, Sink
from workers.progress import (
    candle_processed_through,
    wait_candle_open,
    wait_candle_processed,
)

log = logging.getLogger(__name__)

WAIT_SLICE_S = 0.5


class LockstepTimeout(RuntimeError):
    """The pipeline did not report a candle processed in time; the message is one line."""


class Lockstep:
    """A ``ReplayFeed`` checkpoint: flush ``publisher``, then wait for the pipeline to process the closed candle.

    It also wraps ``publisher``'s sink so that the first batch is applied before the second is sent.
    """

    def __init__(self, publisher: BatchPublisher, client: redis.Redis, timeframe: str, timeout_s: float = 60.0) -> None:
        self.publisher = publisher
        self.client = client
        self.timeframe = timeframe
        self.timeout_s = timeout_s
        self.first_batch_applied: bool | None = None
        """None before the first batch; then whether it was seen applied within the timeout."""
        publisher.sink = self._first_batch_waits(publisher.sink)

    def _first_batch_waits(self, sink: Sink) -> Sink:
        """``sink``, except that after the first payload it waits until Redis shows that payload's candle.

        It runs on the publisher's sender thread, so later batches simply wait behind it. One symbol
        is enough: a batch is applied by one atomic script. On timeout it logs and goes on (the next
        checkpoint then reports the pipeline as stuck); raising would make the publisher resend.
        """

        def send(payload: dict[str, list]) -> None:
            sink(payload)
            if self.first_batch_applied is not None or not payload["t"]:
                return
            symbol, ts = payload["s"][-1], int(payload["t"][-1])
            candle = ts - ts % TIMEFRAME_MS[self.timeframe]
            deadline = time.monotonic() + self.timeout_s
            applied = False
            while not applied and time.monotonic() < deadline:
                through = candle_processed_through(self.client, symbol, self.timeframe)  # a rerun: already past it
                applied = (through is not None and through >= candle) or wait_candle_open(
                    self.client, symbol, self.timeframe, candle, min(WAIT_SLICE_S, deadline - time.monotonic())
                )
            self.first_batch_applied = applied
            if not applied:
                log.warning(
                    "lockstep: the first batch (%s %s candle of %s) was not applied within %g s",
                    symbol,
                    self.timeframe,
                    iso_time(candle),
                    self.timeout_s,
                    extra={"symbol": symbol, "timeframe": self.timeframe},
                )

        return send

    async def __call__(self, symbol: str, candle_open_ms: int) -> None:
        await self.publisher.flush()
        deadline = time.monotonic() + self.timeout_s
        while not await self._wait(symbol, candle_open_ms, deadline - time.monotonic()):
            if time.monotonic() >= deadline:
                raise LockstepTimeout(
                    f"lockstep: the live pipeline did not report the {symbol} {self.timeframe} candle of "
                    f"{iso_time(candle_open_ms)} processed within {self.timeout_s:g} s "
                    "(is the ingest worker running?)"
                )

    async def _wait(self, symbol: str, candle_open_ms: int, remaining_s: float) -> bool:
        """Poll for at most ``WAIT_SLICE_S`` on a thread: a thread cannot be cancelled, and the feed must stop
        promptly on SIGTERM."""
        slice_s = min(WAIT_SLICE_S, max(0.0, remaining_s))
        return await asyncio.to_thread(
            wait_candle_processed, self.client, symbol, self.timeframe, candle_open_ms, slice_s
        )
