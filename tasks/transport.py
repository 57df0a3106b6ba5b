"""kombu's Redis transport, with one redis-py client per channel instead of one per command.

kombu 5.7's Redis channel builds a new ``redis.Redis`` object for every publish, every
delivery it records as unacknowledged and every ack (``Channel.conn_or_acquire``). With
redis-py 8 building one costs ~0.4 ms of CPU (it fills a table of ~170 response
callbacks), more than the Redis round trip it wraps, and a live close pays it on each of its
hops: measured, it was a third of what the feed's send of a tick batch costs. A client
object holds no connection of its own (each command borrows one from the channel's pool),
so one per channel serves every such call; it is rebuilt whenever the channel replaces
its pool (after a fork or a reconnect).

``celery_app`` makes it the broker transport: every broker URL TickFlow accepts is a Redis one
(``tickflow.settings``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _shared_client: redis.Redis | None = None

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._shared_client = self._create_client()
        yield shared

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:
            # A worker that loses Redis collects its connection, then closes its channels, and closing one
            # restores the messages its running tasks hold: kombu would build a pool from the collected
            # connection and fail with AttributeError, which stops the worker (tests/workers/test_faults.py).
            # As a connection error it is ignored: the messages stay in Redis's unacked index, and the
            # restore sweep brings them back after the visibility timeout.
            raise redis.ConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
