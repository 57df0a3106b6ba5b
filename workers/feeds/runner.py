"""Running a feed: pump its ticks into the publisher, report the rates, stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import replace

from workers.feeds.base import Feed
from workers.feeds.publisher import BatchPublisher, PublisherStats

log = logging.getLogger(__name__)


async def run_feed(
    feed: Feed, publisher: BatchPublisher, stop: asyncio.Event | None = None, report_every_s: float = 10.0
) -> PublisherStats:
    """Publish ``feed``'s ticks until it ends or ``stop`` is set, then flush and close ``publisher``.

    Every ``report_every_s`` seconds one line reports the rates since the
    previous line; a last line sums up. An error of the feed (a lockstep
    timeout) is raised after the publisher has flushed.
    """
    stop = stop or asyncio.Event()
    pump = asyncio.create_task(_pump(feed, publisher), name=f"{feed.name}-feed")
    stopped = asyncio.create_task(stop.wait())
    reporter = asyncio.create_task(_report(feed.name, publisher, report_every_s))
    try:
        await asyncio.wait((pump, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, stopped, reporter):
            task.cancel()
        await asyncio.gather(pump, stopped, reporter, return_exceptions=True)
        await publisher.close()
        stats = publisher.stats
        log.info(
            "%s feed stopped: %d ticks published in %d batches, %d dropped, %d failed sends",
            feed.name,
            stats.ticks_sent,
            stats.batches_sent,
            stats.ticks_dropped,
            stats.send_failures,
        )
    if not pump.cancelled():
        pump.result()  # the feed's own error, if it failed
    return stats


async def _pump(feed: Feed, publisher: BatchPublisher) -> None:
    async with aclosing(feed.ticks()) as groups:  # on cancel, the feed closes its connection at once
        async for ticks in groups:
            await publisher.put(ticks)


async def _report(name: str, publisher: BatchPublisher, every_s: float) -> None:
    before, since = replace(publisher.stats), time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        now, stats = time.monotonic(), publisher.stats
        seconds = now - since
        log.info(
            "%s feed: %.1f ticks/s, %.1f batches/s published (%d ticks in, %d pending, %d dropped in all)",
            name,
            (stats.ticks_sent - before.ticks_sent) / seconds,
            (stats.batches_sent - before.batches_sent) / seconds,
            stats.ticks_received,
            publisher.pending_ticks,
            stats.ticks_dropped,
        )
        before, since = replace(stats), now
