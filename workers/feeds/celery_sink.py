"""The production sink: each tick batch becomes one ``tickflow.live.ingest`` message on the ``ingest`` queue."""

from __future__ import annotations

from celery import Celery

from workers.feeds.publisher import Sink

INGEST_TASK = "tickflow.live.ingest"
INGEST_QUEUE = "ingest"


def celery_sink(app: Celery, task: str = INGEST_TASK, queue: str = INGEST_QUEUE) -> Sink:
    """A sink sending each payload as a task by name, so the feed needs none of the live engine's code.

    Sends fail fast, because the publisher retries with its own backoff and
    keeps buffering meanwhile: the sink has a connection of its own with no
    connection retries (the app's pool spends ~6 s retrying before a send to
    a dead broker fails) and sends with ``retry=False``. ``ignore_result=True``,
    as otherwise, with the Redis result backend, every send subscribes to a
    result channel nobody will read. ``argsrepr``: Celery's own repr of a
    500-tick payload (for monitoring) took 40% of the send. Not thread-safe: the publisher calls its
    sink from one thread.
    """
    connection = app.connection_for_write(transport_options={"max_retries": 0})
    producer = app.amqp.Producer(connection, auto_declare=False)

    def send(payload: dict[str, list]) -> None:
        app.send_task(task, args=[payload], queue=queue, producer=producer, retry=False, ignore_result=True,
                      argsrepr=f"[<{len(payload['t'])} ticks>]", kwargsrepr="{}")

    return send
