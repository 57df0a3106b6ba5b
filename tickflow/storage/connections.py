"""Process-wide MongoDB and Redis clients, created lazily.

Celery's prefork pool forks after import; pymongo clients must not cross a
fork, so the cached clients are dropped in every child and re-created there
on first use.

Every client has connect and socket timeouts (``REDIS_*_TIMEOUT_S``,
``MONGO_*_TIMEOUT_S``): a server that accepts connections but never answers
(a stalled process, a half-open connection after a failover, a firewall
dropping packets) makes a command fail after that long instead of hanging
the task, request or CLI command that sent it. No caller blocks on Redis
server-side (no ``BLPOP``, no ``XREAD BLOCK``: the stream process, which
does, has its own client), so a socket timeout of seconds cuts nothing short.
"""

from __future__ import annotations

import os
from functools import cache

import redis
from pymongo import MongoClient
from pymongo.database import Database
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from tickflow.settings import get_settings

# redis-py 8 retries a command 10 times, on timeouts too, by default: against a server that
# never answers, one command would wait eleven socket timeouts. A dropped connection (Redis
# restarted) is still retried at once on a new one; a timeout is not: it raises.
_REDIS_RETRY = Retry(
    ExponentialWithJitterBackoff(base=0.01, cap=1), retries=10, supported_errors=(redis.ConnectionError,)
)


@cache
def _mongo_client(uri: str, connect_timeout_s: float, socket_timeout_s: float) -> MongoClient:
    return MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=round(connect_timeout_s * 1000),
        socketTimeoutMS=round(socket_timeout_s * 1000),
        connect=False,
    )


@cache
def _redis_client(url: str, connect_timeout_s: float, socket_timeout_s: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=socket_timeout_s,
        retry=_REDIS_RETRY,
    )


def mongo_db() -> Database:
    """The platform's database (named in ``MONGO_URI``)."""
    settings = get_settings()
    return _mongo_client(settings.mongo_uri, settings.mongo_connect_timeout_s, settings.mongo_socket_timeout_s)[
        settings.mongo_db_name
    ]


def redis_client() -> redis.Redis:
    """Redis for live state (``REDIS_URL``), returning ``str`` values."""
    settings = get_settings()
    return _redis_client(settings.redis_url, settings.redis_connect_timeout_s, settings.redis_socket_timeout_s)


def reset_clients() -> None:
    """Forget cached clients (after a fork, or when a test changes the settings)."""
    _mongo_client.cache_clear()
    _redis_client.cache_clear()


os.register_at_fork(after_in_child=reset_clients)
