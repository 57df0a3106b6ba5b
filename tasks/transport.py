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


class Transport(kombu_redis.Transport):
    Channel = Channel
