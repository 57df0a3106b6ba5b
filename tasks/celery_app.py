"""The Celery application every worker, the API and the CLI share.

Delivery settings follow what was measured on this machine
(``shared/notes/measured-here.md``): late acks plus reject-on-worker-lost
and a prefetch of one lose nothing when a worker process dies; the Redis
visibility timeout sits above the longest task so a running task is not
delivered twice.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from tickflow.settings import get_settings

QUEUES = ("ingest", "strategy", "orders", "backtests")
# A backtest of millions of bars or a sweep chunk must finish inside this.
VISIBILITY_TIMEOUT_S = 3600


def create_celery() -> Celery:
    settings = get_settings()
    celery = Celery("tickflow", broker=settings.celery_broker_url, backend=settings.celery_result_backend)
    celery.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="backtests",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    from tasks.beat import BEAT_SCHEDULE  # here: tasks/__init__ imports this module first

    celery.conf.beat_schedule = BEAT_SCHEDULE
    return celery


app = create_celery()
