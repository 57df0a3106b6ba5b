"""Batching ticks into messages, because a Celery message costs about 1 ms of worker time whatever it holds.

One message per tick caps the platform at a few hundred ticks per second
(measured on the development machine, 2 cores, 2026-11-25: 136-700 ticks/s
by design); a batch of 500 costs barely more than one tick. A batch is sealed
when it holds ``batch_size`` ticks or when its oldest tick has waited
``batch_interval_s``, whichever comes first, so a busy feed sends full batches
and a quiet one adds at most that delay.

Sealed batches are handed to the *sink* (any callable taking the
``workers.ticks.encode_batch`` payload: ``celery_sink`` in production,
``list.append`` in tests) one at a time, in order, on a thread of their own:
a slow or dead broker never blocks the event loop that reads the exchange.

Flow control, the two cases a feed must tell apart:

* Broker up but behind: ``put`` waits while ``max_queued_batches`` batches
  are queued. A replay or an unthrottled simulation slows to what the broker
  takes instead of piling up ticks.
* Broker failing: each send is retried with exponential backoff and logged;
  ``put`` no longer waits (a live feed cannot pause an exchange), batches
  queue up to ``max_buffered_ticks`` ticks, and beyond that the oldest
  batches are dropped: after an outage fresh prices matter more than old
  ones. Drops are counted in ``stats`` and logged (at most every few seconds).

``close()`` (also on leaving ``async with``) publishes what is left, giving
up after a timeout; ticks still unsent then are counted as dropped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from strategies.domain import Tick
from workers.feeds.backoff import Backoff
from workers.ticks import encode_batch

log = logging.getLogger(__name__)

Sink = Callable[[dict[str, list]], Any]
"""Publishes one encoded batch; raises if it could not."""

MAX_QUEUED_BATCHES = 8  # sealed batches a healthy broker may lag behind before put() waits
DROP_WARNING_EVERY_S = 5.0


class SealedBatch(list[Tick]):
    """A batch's ticks and the id every attempt to publish it carries: ingest applies an id once, so a batch
    the broker took although its send seemed to fail (and is sent again) counts once."""

    __slots__ = ("batch_id",)

    def __init__(self, ticks: Sequence[Tick], batch_id: str) -> None:
        super().__init__(ticks)
        self.batch_id = batch_id


@dataclass
class PublisherStats:
    ticks_received: int = 0
    ticks_sent: int = 0
    batches_sent: int = 0
    ticks_dropped: int = 0
    send_failures: int = 0


class BatchPublisher:
    """Collects ticks from a feed and publishes them through ``sink`` in batches; use as ``async with``."""

    def __init__(
        self,
        sink: Sink,
        *,
        batch_size: int = 500,
        batch_interval_s: float = 0.020,
        max_buffered_ticks: int = 200_000,
        max_queued_batches: int = MAX_QUEUED_BATCHES,
        backoff: Backoff | None = None,
    ) -> None:
        if not (batch_size >= 1 and batch_interval_s > 0 and max_queued_batches >= 1):
            raise ValueError("batch_size and max_queued_batches must be >= 1, batch_interval_s > 0")
        if max_buffered_ticks < batch_size * max_queued_batches:
            raise ValueError("max_buffered_ticks must hold at least max_queued_batches full batches")
        self.sink = sink
        self.batch_size = batch_size
        self.batch_interval_s = batch_interval_s
        self.max_buffered_ticks = max_buffered_ticks
        self.max_queued_batches = max_queued_batches
        self.stats = PublisherStats()
        self._backoff = backoff or Backoff(initial=0.05, maximum=5.0)
        self._buffer: list[Tick] = []  # the batch being filled
        self._timer: asyncio.TimerHandle | None = None  # seals it when its oldest tick is old enough
        self._queue: deque[SealedBatch] = deque()  # sealed, waiting for the sender
        self._queued_ticks = 0
        self._in_flight: SealedBatch | None = None
        self._id_prefix = secrets.token_hex(6)  # this publisher's batches' ids: prefix-sequence
        self._sealed = 0
        self._healthy = True  # False from a failed send until the next success
        self._work = asyncio.Event()  # something was queued
        self._progress = asyncio.Event()  # the sender took, sent or failed to send a batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick-publisher")
        self._sender: asyncio.Task | None = None
        self._last_drop_warning = -DROP_WARNING_EVERY_S
        self._dropped_since_warning = 0

    async def __aenter__(self) -> BatchPublisher:
        self._sender = asyncio.create_task(self._send_forever(), name="tick-publisher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def pending_ticks(self) -> int:
        """Ticks put but not yet published."""
        return len(self._buffer) + self._queued_ticks + len(self._in_flight or ())

    async def put(self, ticks: Sequence[Tick]) -> None:
        """Add ticks (in feed order); waits only while a healthy broker is behind."""
        if not ticks:
            return
        self.stats.ticks_received += len(ticks)
        self._buffer.extend(ticks)
        if len(self._buffer) < self.batch_size:
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self.batch_interval_s, self._seal_buffer)
            return
        while len(self._buffer) >= self.batch_size:
            self._seal(self.batch_size)
        await asyncio.sleep(0)  # let the sender start on it, even if this feed never waits for anything
        while self._healthy and len(self._queue) >= self.max_queued_batches:
            self._progress.clear()
            await self._progress.wait()

    async def flush(self) -> None:
        """Publish everything put so far; returns once the sink has taken all of it (waits out an outage)."""
        self._seal_buffer()
        while self._queue or self._in_flight is not None:
            self._progress.clear()
            await self._progress.wait()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Flush for at most ``timeout_s``, then stop; whatever is still unsent counts as dropped."""
        if self._sender is None:
            return
        try:
            await asyncio.wait_for(self.flush(), timeout_s)
        except TimeoutError:
            pass
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)
        self._sender = None
        self._executor.shutdown(wait=False)
        unsent = self.pending_ticks
        if unsent:
            self.stats.ticks_dropped += unsent
            log.warning(
                "%d ticks not published at shutdown: the broker did not take them within %.0f s", unsent, timeout_s
            )

    def _seal_buffer(self) -> None:
        if self._buffer:
            self._seal(len(self._buffer))

    def _seal(self, count: int) -> None:
        self._sealed += 1
        batch = SealedBatch(self._buffer[:count], f"{self._id_prefix}-{self._sealed}")
        del self._buffer[:count]
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer:  # the rest arrived just now: it may wait a full interval
            self._timer = asyncio.get_running_loop().call_later(self.batch_interval_s, self._seal_buffer)
        self._queue.append(batch)
        self._queued_ticks += len(batch)
        self._work.set()
        while self._queued_ticks > self.max_buffered_ticks:
            self._drop(self._queue.popleft())

    def _drop(self, batch: SealedBatch) -> None:
        self._queued_ticks -= len(batch)
        self.stats.ticks_dropped += len(batch)
        self._dropped_since_warning += len(batch)
        now = time.monotonic()
        if now - self._last_drop_warning >= DROP_WARNING_EVERY_S:
            log.warning(
                "publish buffer full (%d ticks): dropped the oldest %d ticks (%d in all)",
                self.max_buffered_ticks,
                self._dropped_since_warning,
                self.stats.ticks_dropped,
            )
            self._last_drop_warning, self._dropped_since_warning = now, 0

    async def _send_forever(self) -> None:
        while True:
            if not self._queue:
                self._work.clear()
                await self._work.wait()
                continue
            batch = self._in_flight = self._queue.popleft()
            self._queued_ticks -= len(batch)
            self._progress.set()
            await self._deliver(batch)
            self._in_flight = None
            self._progress.set()

    async def _deliver(self, batch: SealedBatch) -> None:
        """Send one batch, retrying with backoff until it goes through."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(self._executor, self._send, batch)
            except Exception as error:  # whatever the sink raises: a broker has many ways to fail
                self.stats.send_failures += 1
                self._healthy = False
                self._progress.set()  # a waiting put() stops waiting: its ticks get buffered instead
                delay = self._backoff.next()
                log.warning(
                    "publishing %d ticks failed (attempt %d): %s; retrying in %.2f s",
                    len(batch),
                    self._backoff.attempts,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if not self._healthy:
                log.warning("publishing again after %d failed attempts", self._backoff.attempts)
            self._healthy = True
            self._backoff.reset()
            self.stats.ticks_sent += len(batch)
            self.stats.batches_sent += 1
            return

    def _send(self, batch: SealedBatch) -> None:
        self.sink(encode_batch(batch, batch.batch_id))
