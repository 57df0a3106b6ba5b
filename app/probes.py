"""Health probes for Redis, MongoDB and the Celery workers.

Each probe opens its own short-lived connection with sub-second timeouts:
the shared clients wait for seconds (or forever) when a server is gone, and
a health check that hangs is worse than none. A probe never raises; it
reports ``{"state": "up" | "down", ...}`` and logs why a service is down
(health is public, so error texts, which name hosts, stay out of the report).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from celery import Celery
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_S = 0.5

log = logging.getLogger(__name__)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def probe_redis(url: str) -> dict[str, Any]:
    """PING Redis."""
    started = time.perf_counter()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        log.warning("health: Redis is down: %s", exc)
        return {"state": "down"}
    finally:
        client.close()
    return {"state": "up", "latency_ms": _elapsed_ms(started)}


def probe_mongodb(uri: str) -> dict[str, Any]:
    """Run ``ping`` on MongoDB."""
    started = time.perf_counter()
    timeout_ms = int(TIMEOUT_S * 1000)
    try:
        with MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, socketTimeoutMS=timeout_ms
        ) as client:
            client.admin.command("ping")
    except PyMongoError as exc:
        log.warning("health: MongoDB is down: %s", exc)
        return {"state": "down"}
    return {"state": "up", "latency_ms": _elapsed_ms(started)}


def probe_celery(celery: Celery, broker_url: str) -> dict[str, Any]:
    """Ask every Celery worker for a pong; ``up`` when at least one answers."""
    try:
        with celery.connection_for_write(broker_url, connect_timeout=TIMEOUT_S) as connection:
            connection.ensure_connection(max_retries=0)  # fail fast instead of kombu's retry loop
            replies = celery.control.inspect(timeout=TIMEOUT_S, connection=connection).ping() or {}
    except Exception as exc:  # kombu raises assorted errors for an unreachable broker
        log.warning("health: Celery broker unreachable: %s", exc)
        return {"state": "down", "workers": []}
    workers = sorted(replies)
    return {"state": "up" if workers else "down", "workers": workers}
