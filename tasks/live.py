"""Celery tasks of the live engine: ``tickflow.live.*``.

Feeds send ``tickflow.live.ingest`` tick batches by name (``tickflow.live.ticks``). Each
candle close starts one chain ``indicators`` -> ``evaluate`` -> ``execute`` on the
``strategy``, ``strategy`` and ``orders`` queues, carrying only ids and times
(``engine.CloseJob``); the decisions ride along the chain, so chains of consecutive
closes may interleave freely. The logic lives in ``tickflow.live.engine``; these tasks
only unpack messages, route and retry.

Every task is safe to run twice (late acks and reject-on-worker-lost redeliver it after
a crash): positions record how far they have been moved, orders are claimed by
deterministic client order ids, and trade records are idempotent upserts. No task
stores a result.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from celery import chain
from celery.signals import worker_ready

from tasks.celery_app import app
from tickflow.live.config import live_settings
from tickflow.live.engine import CloseJob, LiveEngine, NotReady
from tickflow.live.recovery import ensure_live_state
from tickflow.live.ticks import BadBatch
from tickflow.storage.connections import mongo_db, redis_client

log = logging.getLogger(__name__)

INGEST_QUEUE, STRATEGY_QUEUE, ORDERS_QUEUE = "ingest", "strategy", "orders"
NOT_READY_RETRY_S = 0.02
NOT_READY_RETRIES = 1000
"""How long ``evaluate`` waits (in retries) for the close before its own to be executed: 20 s."""
_engines: dict[int, LiveEngine] = {}


def engine() -> LiveEngine:
    """This process's engine, built on first use after the fork (clients must not cross it)."""
    pid = os.getpid()
    if pid not in _engines:
        _engines.clear()
        _engines[pid] = LiveEngine(redis_client(), mongo_db(), live_settings())
    return _engines[pid]


@app.task(name="tickflow.live.ingest", ignore_result=True)
def ingest(payload: dict[str, Any]) -> None:
    """Apply a tick batch, start a chain per close event, then check stops on the symbols that moved."""
    live = engine()
    ensure_live_state(live)
    try:
        jobs, holders = live.ingest(payload)
    except BadBatch as error:
        log.error("ingest: rejected a tick batch: %s", error)  # retrying cannot fix it
        return
    for job in jobs:
        start_chain(job)
    live.check_stops(holders)


def start_chain(job: CloseJob) -> None:
    chain(
        indicators.si(job.to_dict()).set(queue=STRATEGY_QUEUE),
        evaluate.s().set(queue=STRATEGY_QUEUE),
        execute.s().set(queue=ORDERS_QUEUE),
    ).apply_async()


@app.task(name="tickflow.live.indicators", ignore_result=True)
def indicators(job: dict[str, Any]) -> dict[str, Any]:
    return {"job": job, "tails": engine().indicators(CloseJob.from_dict(job))}


@app.task(name="tickflow.live.evaluate", bind=True, ignore_result=True, max_retries=NOT_READY_RETRIES)
def evaluate(self, handed: dict[str, Any]) -> dict[str, Any]:
    try:
        engine().evaluate(CloseJob.from_dict(handed["job"]), handed["tails"])
    except NotReady:
        raise self.retry(countdown=NOT_READY_RETRY_S) from None
    return handed["job"]


@app.task(name="tickflow.live.execute", ignore_result=True)
def execute(job: dict[str, Any]) -> None:
    live = engine()
    if live.settings.execute_delay_s:
        time.sleep(live.settings.execute_delay_s)
    live.execute(CloseJob.from_dict(job))


@app.task(name="tickflow.live.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    """Copy trade records MongoDB could not take earlier from the Redis outbox to ``trade_logs``."""
    return engine().archive.drain()


@worker_ready.connect
def _rebuild_after_empty_redis(**_: Any) -> None:
    """A worker starting on an emptied Redis rebuilds live state before it takes any tick."""
    ensure_live_state(LiveEngine(redis_client(), mongo_db(), live_settings()))
