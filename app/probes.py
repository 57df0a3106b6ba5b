"""Health probes for Redis, MongoDB, the Celery workers and the feed (every live symbol ticking), and the
monitor that runs them in the background.

Each probe opens its own short-lived connection with sub-second timeouts:
the shared clients wait for seconds (or forever) when a server is gone, and
a health check that hangs is worse than none. A probe never raises; it
reports ``{"state": "up" | "down", ...}`` and logs why a service is down
(health is public, so error texts, which name hosts, stay out of the report).

Probing takes a second (connections, and a Celery ping that waits for every
worker's answer), and health is what every dashboard polls, so requests never
probe: a ``HealthMonitor`` thread probes every ``REFRESH_S`` while health is
being asked for, and requests read its last report.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from celery import Celery
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from redis.backoff import NoBackoff
from redis.retry import Retry

from tickflow.storage.liveness import symbol_freshness

TIMEOUT_S = 0.5

log = logging.getLogger(__name__)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def quick_redis(url: str, timeout_s: float = TIMEOUT_S) -> redis.Redis:
    """A client of its own that gives up within ``timeout_s``, without retrying: a check must answer even when
    the server does not."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )  # fmt: skip


def probe_redis(url: str) -> dict[str, Any]:
    """PING Redis."""
    started = time.perf_counter()
    client = quick_redis(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        log.warning("health: Redis is down: %s", exc)
        return {"state": "down"}
    finally:
        client.close()
    return {"state": "up", "latency_ms": _elapsed_ms(started)}


def probe_feed(url: str) -> dict[str, Any]:
    """Whether every symbol live strategies trade is ticking (``tickflow.storage.liveness``); the stale ones."""
    client = quick_redis(url)
    try:
        stale = [row.symbol for row in symbol_freshness(client) if row.stale]
    except redis.RedisError:
        return {"state": "down", "stale": []}  # the redis probe says why
    finally:
        client.close()
    if stale:
        log.warning("health: no recent tick for %s", ", ".join(stale))
    return {"state": "down" if stale else "up", "stale": stale}


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


REFRESH_S = 2.0
"""How often the monitor probes: a report is at most this old (plus one probe round)."""
IDLE_STOP_S = 60.0
"""The monitor's thread ends when nobody asked for a report this long; the next request starts it again."""


class HealthMonitor:
    """Probes Redis, MongoDB and Celery on a background thread while its reports are being read.

    ``report()`` answers at once from the last round of probes, each part with ``age_s``, the
    age of its probe. Only the first request after a quiet spell waits, for one round.
    """

    def __init__(self, redis_url: str, mongo_uri: str, celery: Celery, broker_url: str) -> None:
        self._probes = {
            "redis": lambda: probe_redis(redis_url),
            "mongodb": lambda: probe_mongodb(mongo_uri),
            "feed": lambda: probe_feed(redis_url),
            "celery": lambda: probe_celery(celery, broker_url),
        }
        self._results: dict[str, tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._asked = 0.0
        self._first_round = threading.Event()
        self._stopped = threading.Event()

    def report(self) -> dict[str, dict[str, Any]]:
        """Each part's last probe result with its age in seconds."""
        self._asked = time.monotonic()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._first_round.clear()
                self._thread = threading.Thread(target=self._run, name="health-monitor", daemon=True)
                self._thread.start()
        self._first_round.wait()
        now = time.monotonic()
        return {name: {**result, "age_s": round(now - at, 3)} for name, (result, at) in self._results.items()}

    def _run(self) -> None:
        while True:
            for name, probe in self._probes.items():
                self._results[name] = (probe(), time.monotonic())
            self._first_round.set()
            if time.monotonic() - self._asked > IDLE_STOP_S or self._stopped.wait(REFRESH_S):
                return

    def stop(self) -> None:
        """End the thread (for an app that is done serving); a later ``report()`` starts it again."""
        self._stopped.set()
        thread = self._thread
        if thread is not None:
            thread.join()
        self._stopped.clear()
