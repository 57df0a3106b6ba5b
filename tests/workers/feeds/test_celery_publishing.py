"""Publishing through a real Redis broker: what the ingest worker receives, and surviving a broker outage."""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from celery import Celery

from cli.localservices import LocalRedis, free_port
from tasks.celery_app import app as celery_app
from tasks.feed import INGEST_TASK, celery_sink
from tests.workers.feeds.test_publisher import ticks
from workers.feeds import (
    Backoff,
    BatchPublisher,
    SimulatedFeed,
    run_feed,
)
from workers.ticks import decode_batch


@pytest.fixture
def queue(services) -> Iterator[str]:
    """A queue of this test's own on the test broker: a parallel test run's ingest worker cannot take from it."""
    name = f"feed-test-{uuid.uuid4().hex[:8]}"
    yield name
    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete(name, *client.keys(f"_kombu.binding*.{name}"))


def read_messages(app: Celery, queue: str, count: int, timeout_s: float = 5.0) -> list:
    """Take ``count`` messages off ``queue`` as a worker would receive them."""
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue, no_ack=True)
        try:
            return [simple.get(timeout=timeout_s) for _ in range(count)]
        finally:
            simple.close()


def message_ticks(messages: list) -> list:
    return [tick for message in messages for tick in decode_batch(message.decode()[0][0]).ticks()]


def test_batches_reach_the_queue_as_ingest_tasks_holding_the_ticks(queue):
    sent = ticks(1_200)

    async def scenario() -> None:
        async with BatchPublisher(celery_sink(celery_app, queue=queue), batch_size=500) as publisher:
            await publisher.put(sent)

    asyncio.run(scenario())
    messages = read_messages(celery_app, queue, 3)

    assert {message.headers["task"] for message in messages} == {INGEST_TASK}
    assert [len(message.decode()[0][0]["t"]) for message in messages] == [500, 500, 200]
    assert message_ticks(messages) == sent


def test_a_simulated_feed_publishes_through_the_broker_until_stopped(queue):
    async def scenario():
        async with BatchPublisher(celery_sink(celery_app, queue=queue)) as publisher:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(0.5, stop.set)
            return await run_feed(SimulatedFeed(["BTCUSDT", "ETHUSDT"], rate=1_000), publisher, stop)

    stats = asyncio.run(scenario())
    messages = read_messages(celery_app, queue, stats.batches_sent)

    assert stats.ticks_sent == stats.ticks_received >= 400 and stats.ticks_dropped == 0
    assert len(message_ticks(messages)) == stats.ticks_sent


@pytest.fixture
def dead_broker(tmp_path, monkeypatch) -> Iterator[tuple[Celery, LocalRedis]]:
    """A Celery app whose broker is down until the test starts it.

    Set through the environment, because Celery prefers ``CELERY_BROKER_URL`` to the URL an app is given.
    """
    server = LocalRedis(free_port(), tmp_path / "redis", persistent=False)
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    yield Celery("outage"), server
    server.stop()


def test_a_dead_broker_does_not_block_the_feed_and_buffered_ticks_go_out_once_it_is_back(dead_broker, caplog):
    app, server = dead_broker
    sent = ticks(2_000)

    async def scenario():
        async with BatchPublisher(
            celery_sink(app, queue="ingest"), batch_size=500, backoff=Backoff(initial=0.02, maximum=0.1)
        ) as publisher:
            started = time.monotonic()
            for start in range(0, len(sent), 100):
                await publisher.put(sent[start : start + 100])
            put_seconds = time.monotonic() - started
            await asyncio.sleep(0.3)
            failures_while_down = publisher.stats.send_failures
            await asyncio.to_thread(server.ensure_running)
            await asyncio.wait_for(publisher.flush(), 10)
            return put_seconds, failures_while_down, publisher.stats

    with caplog.at_level(logging.WARNING, logger="workers.feeds.publisher"):
        put_seconds, failures_while_down, stats = asyncio.run(scenario())

    assert put_seconds < 0.5
    assert failures_while_down >= 2
    assert stats.ticks_sent == 2_000 and stats.ticks_dropped == 0
    assert message_ticks(read_messages(app, "ingest", 4)) == sent
    assert any("publishing 500 ticks failed" in record.message for record in caplog.records)
    assert any("publishing again" in record.message for record in caplog.records)


def test_beyond_the_buffer_bound_the_oldest_ticks_are_dropped_counted_and_logged(dead_broker, caplog):
    app, _ = dead_broker

    async def scenario():
        publisher = BatchPublisher(
            celery_sink(app), batch_size=100, max_buffered_ticks=1_000, backoff=Backoff(initial=0.02, maximum=0.1)
        )
        async with publisher:
            await publisher.put(ticks(100))
            await asyncio.sleep(0.1)  # the first batch is being retried, the broker known down
            for _ in range(29):
                await publisher.put(ticks(100))
            dropped_while_running = publisher.stats.ticks_dropped
            await publisher.close(timeout_s=0.2)
        return dropped_while_running, publisher.stats

    with caplog.at_level(logging.WARNING, logger="workers.feeds.publisher"):
        dropped_while_running, stats = asyncio.run(scenario())

    assert dropped_while_running == 3_000 - 100 - 1_000  # all but the batch in flight and the buffer's worth
    assert stats.ticks_dropped == 3_000 and stats.ticks_sent == 0  # the rest given up at shutdown
    messages = [record.message for record in caplog.records]
    assert any("publish buffer full (1000 ticks): dropped the oldest" in message for message in messages)
    assert any(message.startswith("1100 ticks not published at shutdown") for message in messages)
