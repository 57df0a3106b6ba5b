"""The production sink: each tick batch becomes ``tasks.live.ingest`` messages on the ingest queue(s).

With ``LIVE_SHARDS`` > 1 a batch is split by symbol shard and each part goes to its
shard's queue (``ingest.<k>``, ``tasks.routing``), so every symbol's ticks reach the one
node that handles that symbol.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery

from tasks.routing import INGEST_QUEUE, live_shards, shard_queue, split_batch
from workers.feeds.publisher import Sink

INGEST_TASK = "tasks.live.ingest"


def celery_sink(app: Celery, task: str = INGEST_TASK, queue: str = INGEST_QUEUE, shards: int | None = None) -> Sink:
    """A sink sending each payload as a task by name, so the feed needs none of the live engine's code.

    ``queue`` is the base name, ``shards`` defaults to ``LIVE_SHARDS``. Sends fail fast,
    because the publisher retries with its own backoff and
    keeps buffering meanwhile: the sink has a connection of its own with no
    connection retries (the app's pool spends ~6 s retrying before a send to
    a dead broker fails) and sends with ``retry=False``. ``ignore_result=True``,
    as otherwise, with the Redis result backend, every send subscribes to a
    result channel nobody will read. ``argsrepr``: Celery's own repr of a
    500-tick payload (for monitoring) took 40% of the send. Not thread-safe: the publisher calls its
    sink from one thread.
    """
    shards = live_shards() if shards is None else shards
    connection = app.connection_for_write(transport_options={"max_retries": 0})
    producer = app.amqp.Producer(connection, auto_declare=False)

    def send_to(name: str, payload: dict[str, list]) -> None:
        app.send_task(
            task,
            args=[payload],
            queue=name,
            producer=producer,
            retry=False,
            ignore_result=True,
            argsrepr=f"[<{len(payload['t'])} ticks>]",
            kwargsrepr="{}",
        )

    return sharded(send_to, queue, shards)


def sharded(send_to: Callable[[str, dict[str, list]], object], queue: str, shards: int) -> Sink:
    """A sink splitting each payload by shard and sending every part with ``send_to(queue of its shard, part)``.

    The publisher retries a failed payload whole; parts that went out before the failure
    are not sent again, since ingesting ticks twice would count their volume twice. Only
    the retry of that payload (the next call, with an equal payload) skips them.
    """
    failed: tuple[dict[str, list], dict[int, dict[str, list]]] | None = None  # a payload, and its parts unsent

    def send(payload: dict[str, list]) -> None:
        nonlocal failed
        parts = failed[1] if failed is not None and failed[0] == payload else split_batch(payload, shards)
        failed = None
        for shard, part in list(parts.items()):
            try:
                send_to(shard_queue(queue, shard, shards), part)
            except Exception:
                failed = (payload, parts)
                raise
            del parts[shard]

    return send
