"""The Celery application every worker, the API and the CLI share.

Delivery settings follow what was measured on the development machine
(Celery 5.7, Redis 7, 2026-11-25): late acks plus reject-on-worker-lost and a
prefetch of one lose nothing when a worker process dies.

Every queue (live and backtests) shares one Redis namespace, so one
``celery -A tasks inspect/control/purge/events`` and one Flower see every
worker. The Redis visibility timeout is therefore chosen for live work: a
whole worker SIGKILLed has its unacknowledged messages restored by another
worker's sweep about ``VISIBILITY_TIMEOUT_S`` + ``RESTORE_INTERVAL_S`` later,
well inside a candle period. A task running longer than the timeout would be
delivered again while it runs; backtest tasks keep their message's lease
fresh while they run (``tasks.backtests``), and are correct even when
delivered twice (first finisher wins, ``backtests.jobs``).
docs/architecture.md, "Delivery guarantees", has the whole argument.

No connection can hang a process: the broker's and the result backend's Redis
connections get the same connect and socket timeouts as the live-state client
(``REDIS_*_TIMEOUT_S``). Neither blocks on a socket read longer than that: a
worker's ``BRPOP`` waits ``brpop_timeout`` (1 s) and is read only once its
socket is readable, and waiting for a result polls its pub/sub connection with
the caller's own timeout. Every task has a soft and a hard time limit fitted
to its queue (``tasks.time_limits``).
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from tasks.beat import BEAT_SCHEDULE
from tasks.time_limits import QueueTimeLimits
from tickflow.logs import connect_celery
from tickflow.settings import SettingsError, get_settings

QUEUES = ("ingest", "strategy", "orders", "backtests")
TASK_MODULES = ("tasks.backtests", "tasks.live", "tasks.maintenance")
# Seconds an unacknowledged message may stay with a worker before another worker's sweep
# restores it: how long a dead worker's live tasks wait. Not a limit on task duration
# (backtest tasks renew their lease; see tasks.backtests).
VISIBILITY_TIMEOUT_S = 30
# kombu 5.7's restore sweep runs every unacked_restore_interval seconds, scanning on one
# call in unacked_restore_throttle (defaults 10 and 10: a scan every 100 s).
RESTORE_INTERVAL_S = 1
RESTORE_THROTTLE = 1
# A sweep holds a Redis lock (kombu's ``unacked_mutex``) for the milliseconds it takes. A worker
# SIGKILLed while holding it leaves the lock until it expires: kombu's default of 300 s would
# stop every restore, and so delay every dead worker's tasks, by up to five minutes.
RESTORE_MUTEX_EXPIRE_S = 5
# The result backend retries a lost connection (20 times, a second apart); against a Redis that
# accepts but never answers, each try also waits a socket timeout. Sending a task whose result is
# kept subscribes to it there, so without a bound an API request submitting a backtest would wait
# minutes. After this many seconds it fails instead (kombu's retry_over_time ``timeout``).
RESULT_BACKEND_RETRY_S = 15
BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": RESTORE_INTERVAL_S,
    "unacked_restore_throttle": RESTORE_THROTTLE,
    "unacked_mutex_expire": RESTORE_MUTEX_EXPIRE_S,
}


def create_celery() -> Celery:
    settings = get_settings()
    celery = Celery(
        "tickflow", broker=settings.celery_broker_url, backend=settings.celery_result_backend, include=TASK_MODULES
    )
    celery.conf.update(
        broker_transport="tasks.transport:Transport",  # kombu's Redis transport, minus a client object per command
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="backtests",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_max_memory_per_child=settings.worker_max_memory_mb * 1024,  # KiB
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            **BROKER_TRANSPORT_OPTIONS,
            "socket_connect_timeout": settings.redis_connect_timeout_s,
            "socket_timeout": settings.redis_socket_timeout_s,
        },
        result_backend_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "retry_policy": {"timeout": RESULT_BACKEND_RETRY_S},
        },
        redis_socket_connect_timeout=settings.redis_connect_timeout_s,
        redis_socket_timeout=settings.redis_socket_timeout_s,
        task_annotations=[QueueTimeLimits()],
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    celery.conf.beat_schedule = BEAT_SCHEDULE
    return celery


try:
    app = create_celery()
except SettingsError as error:  # ``celery -A tasks ...`` then prints the one line that says what to fix
    raise SystemExit(f"tickflow: {error}") from None
connect_celery()  # workers and beat log one line per event (tickflow.logs)
