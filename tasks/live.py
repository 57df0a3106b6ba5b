"""Celery tasks of the live engine: ``tasks.live.*``.

Feeds send ``tasks.live.ingest`` tick batches by name (``workers.ticks``). Each
candle close event (every symbol that closed in a batch, per timeframe and candle time)
starts one chain ``decide`` -> ``execute`` on the ``strategy`` and ``orders`` queues,
where ``decide`` runs the engine's ``indicators`` and ``evaluate`` steps in one task,
carrying only ids and times
(``engine.CloseJob``); the decisions ride along the chain, so chains of consecutive
closes may interleave freely. The logic lives in ``workers.engine``; these tasks
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
from dataclasses import asdict
from typing import Any

import ccxt
import redis
from celery.signals import task_postrun, worker_init, worker_process_init, worker_ready
from kombu.exceptions import OperationalError
from pymongo.errors import PyMongoError

from tasks.celery_app import RESTORE_INTERVAL_S, VISIBILITY_TIMEOUT_S, app
from tasks.routing import ORDERS_QUEUE, STRATEGY_QUEUE, group_by_shard, live_shards, shard_queue
from tickflow.runtime import FreedMemoryTrim, freeze_startup_objects
from tickflow.settings import live_settings
from tickflow.storage.active import OrderUnsettled
from tickflow.storage.connections import mongo_db, redis_client
from workers.engine import CloseJob, LiveEngine, NotReady
from workers.positions import warm_kernels
from workers.recovery import ensure_live_state
from workers.ticks import BadBatch

log = logging.getLogger(__name__)

NOT_READY_RETRY_S = 0.02
NOT_READY_RETRIES = int(2 * (VISIBILITY_TIMEOUT_S + RESTORE_INTERVAL_S) / NOT_READY_RETRY_S)
"""How long ``decide`` waits (in retries) for the close before its own to be executed: ~62 s.

That close's ``execute`` may be a dead worker's message, which comes back only after the
visibility timeout and a restore sweep; waiting twice that means a crash never costs the
next close as well."""
_engines: dict[int, LiveEngine] = {}


def engine() -> LiveEngine:
    """This process's engine, built on first use after the fork (clients must not cross it)."""
    pid = os.getpid()
    if pid not in _engines:
        _engines.clear()
        _engines[pid] = LiveEngine(redis_client(), mongo_db(), live_settings())
    return _engines[pid]


@app.task(ignore_result=True)
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
    """``decide`` (indicators, then evaluate, in one task) -> ``execute``: two messages per close event.

    A Celery message costs ~1 ms of worker time plus a queue hop (measured: a 4-task chain
    is 3-4x dearer than one task doing the same steps), so indicators and evaluate, both
    on the ``strategy`` queue, run in one task; they stay separate steps of the engine.
    ``execute`` stays its own task on the ``orders`` queue.

    The chain is sent as Celery's ``chain`` primitive sends it -- the first task's message
    carries the rest in its ``chain`` field, and the worker sends ``execute`` with
    ``decide``'s return value when ``decide`` succeeds -- but without building a ``chain``
    canvas (freezing, cloning and ids for every step) or ``repr``-ing the job for monitoring,
    which together cost more than the publish itself (measured: 1.0 against 0.5 ms a close).

    Both go to the queues of the symbols' shard (``tasks.routing``), so a symbol's closes
    stay on the node that ingests its ticks. The feed splits batches by shard, so a job
    normally holds one shard and makes one chain; a job mixing shards (a batch sent
    unsplit) becomes one chain per shard rather than running symbols on another's node.
    """
    shards = live_shards()
    groups = group_by_shard(job.legs, lambda leg: leg.symbol, shards)
    for shard, legs in groups.items():
        part = job if len(groups) == 1 else CloseJob(job.timeframe, job.close, job.seen_ms, legs)
        shown = {"argsrepr": f"[<close {part.timeframe} {part.close}: {len(legs)} symbol(s)>]", "kwargsrepr": "{}"}
        then = execute.signature(queue=shard_queue(ORDERS_QUEUE, shard, shards), **shown)
        decide.apply_async((part.to_dict(),), queue=shard_queue(STRATEGY_QUEUE, shard, shards), chain=[then], **shown)


@app.task(bind=True, ignore_result=True, max_retries=NOT_READY_RETRIES)
def decide(self, job: dict[str, Any]) -> dict[str, Any]:
    """``indicators`` then ``evaluate`` for a close event; hands the job on to ``execute``."""
    started = time.perf_counter()
    try:
        engine().decide(CloseJob.from_dict(job))
    except OrderUnsettled as error:  # a stop's venue close from the path: its retry settles it by lookup
        raise self.retry(countdown=error.retry_after_s) from None
    except NotReady:
        log.info(
            "decide: close %s %d not ready after %.1f ms; retrying",
            job["timeframe"],
            job["close"],
            1000 * (time.perf_counter() - started),
            extra=_job_fields(job),
        )
        raise self.retry(countdown=NOT_READY_RETRY_S) from None
    log.info(
        "decide: close %s %d, %d symbols, %d strategies in %.1f ms",
        job["timeframe"],
        job["close"],
        len(job["legs"]),
        sum(len(leg["ids"]) for leg in job["legs"]),
        1000 * (time.perf_counter() - started),
        extra=_job_fields(job),
    )
    return job


@app.task(bind=True, ignore_result=True, max_retries=None)
def execute(self, job: dict[str, Any]) -> None:
    """Fill the close's orders; while a venue order's fate is unknown, try again, for as long as it takes: only the
    venue's answer settles it (by lookup), and meanwhile later closes pass its position by (``LiveEngine.evaluate``)."""
    started = time.perf_counter()
    try:
        engine().execute(CloseJob.from_dict(job))
    except OrderUnsettled as error:
        raise self.retry(countdown=error.retry_after_s) from None
    log.info(
        "execute: close %s %d, %d symbols in %.1f ms",
        job["timeframe"],
        job["close"],
        len(job["legs"]),
        1000 * (time.perf_counter() - started),
        extra=_job_fields(job),
    )


def _job_fields(job: dict[str, Any]) -> dict[str, Any]:
    """Log fields of a close job (``tickflow.logs``): its symbol and strategy too when it has only one."""
    legs = job["legs"]
    fields = {"timeframe": job["timeframe"], "close": job["close"]}
    if len(legs) == 1:
        fields["symbol"] = legs[0]["symbol"]
        if len(legs[0]["ids"]) == 1:
            fields["strategy_id"] = legs[0]["ids"][0]
    return fields


@app.task(ignore_result=True)
def start_strategy(strategy_id: str, mode: str, cash: float) -> dict[str, Any]:
    """Make a stored strategy live; returns its active-set entry.

    The API calls this (and ``stop_strategy``) directly, so it runs in the API's own process
    and answers at once, whether or not a worker is up; sent as a message it runs on a worker.
    """
    return asdict(engine().start(strategy_id, mode, cash))


@app.task(ignore_result=True)
def stop_strategy(strategy_id: str, close_positions: bool) -> dict[str, Any] | None:
    """Take a stored strategy out of trading (closing its positions first if asked); its entry, None if it was
    not live. Raises ``StrategyNotFound`` for an unknown id."""
    live = engine()
    live.catalog.get(strategy_id)
    entry = live.stop(strategy_id, close_positions)
    return None if entry is None else asdict(entry)


@app.task(ignore_result=True)
def drain_outbox() -> int:
    """Copy trade records, order ledger records and equity points MongoDB could not take earlier from their
    Redis outboxes."""
    live = engine()
    return live.archive.drain() + live.ledger_outbox.drain() + live.equity.outbox.drain()


@app.task(ignore_result=True)
def reconcile_venue() -> dict[str, int] | None:
    """Reconcile the live strategies with the venue now (``workers.reconcile``): sent when a worker starts, and by
    beat. A venue that cannot be asked is logged; live orders then run the pass themselves before they go."""
    try:
        found = engine().reconcile_venue()
    except (ccxt.BaseError, PyMongoError) as error:
        log.warning("reconcile_venue: the venue or MongoDB could not be asked: %s", error)
        return None
    if found is None:
        return None
    return {name: len(value) for name, value in asdict(found).items()}


@worker_init.connect
def _prepare_worker(**_: Any) -> None:
    """Before the pool forks: load the compiled position kernels, then freeze every object the worker
    starts with out of garbage collection (``tickflow.runtime``).

    The pool processes inherit both. Without the kernels loaded, each process's first closes
    pay numba's start-up and cache loads (~0.5 s, then 3-15 ms per kernel).
    """
    warm_kernels()
    freeze_startup_objects()


@worker_process_init.connect
def _connect_pool_process(**_: Any) -> None:
    """Open a new pool process's connections before its first task rather than during its first close.

    Its Redis client (``engine()``) and the broker connection its tasks send the next step
    on, with the live queues declared: measured, a process's first send took 10-12 ms. A
    server that is down is no reason to fail the process: its first task connects instead.
    """
    shards = live_shards()
    try:
        engine().redis.ping()
        with app.producer_or_acquire() as producer:
            for base in (STRATEGY_QUEUE, ORDERS_QUEUE):
                for shard in range(shards):
                    producer.maybe_declare(app.amqp.queues[shard_queue(base, shard, shards)])
    except (redis.RedisError, OperationalError, OSError) as error:
        log.warning("pool process: could not connect ahead of its first task, which will (%s)", error)


_freed_memory = FreedMemoryTrim(every_s=60.0)


@task_postrun.connect
def _trim_freed_memory(**_: Any) -> None:
    """After a task, at most once a minute: give the heap's freed pages back (``tickflow.runtime``), once the
    task's latency is spent."""
    _freed_memory.maybe()


@worker_ready.connect
def _freeze_consumer(**_: Any) -> None:
    """The main process built its consumer and pool after ``worker_init``: keep those out of GC too, as
    every message of every close passes through this one process (a full collection here stalls all)."""
    freeze_startup_objects()


@worker_ready.connect
def _rebuild_after_empty_redis(**_: Any) -> None:
    """A worker starting on an emptied Redis rebuilds live state before it takes any tick; with strategies trading
    on a venue, their next orders wait for a reconciliation with it, sent as a task at once."""
    live = LiveEngine(redis_client(), mongo_db(), live_settings())
    ensure_live_state(live)
    if live.forget_reconciliation():
        reconcile_venue.apply_async(queue=shard_queue(ORDERS_QUEUE, 0, live_shards()))
