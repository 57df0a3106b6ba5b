"""Celery tasks for backtests, sweeps and candle downloads, and the functions that submit them.

Messages carry one id each, never data: a run's or a chunk's document says
everything, so a message is tiny, and a redelivered one finds the document as
it is now (cancelled, already done...). The application's delivery settings
(late acks, reject on worker lost, prefetch 1) bring back the task of a
worker that died; the job logic (``backtests.jobs``, ``backtests.sweeps``)
makes running it again harmless.

Visibility: every queue shares one short Redis visibility timeout
(``tasks.celery_app``), chosen for live work. A backtest or a chunk may run
longer, so while it runs its task renews its message's lease: every
``timeout / 6`` seconds it moves the message's entry in kombu's
``unacked_index`` to now (``ZADD XX``), the same score kombu gave it at
delivery. The restore sweep then never finds a live task's message old
enough to restore, and a long job is not delivered twice; once the worker
dies, renewals stop and the message comes back within timeout + sweep. If a
renewal is missed all the same (Redis unreachable for a while, a stalled
process), the job is delivered again and runs twice: harmless, the first to
finish wins (``backtests.jobs``).

Progress: each stage a run or a chunk enters, and the end of each execution, is also a
``job`` event in the live event stream (``tickflow.storage.events``), which result pages
follow through the stream process instead of polling.

A sweep fans its chunks out as a group. Its completion is not a chord
callback: the Redis result backend counts completions, so a chunk that ran
twice (redelivered after its visibility timeout) would fire the callback
early or twice. The chunk documents decide instead: the execution that
finishes the last chunk flips the sweep to ``done``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import pymongo.errors
import redis
from bson import ObjectId
from celery import Task, group
from celery.exceptions import Ignore
from celery.signals import worker_init
from celery.utils import uuid
from kombu.exceptions import OperationalError
from kombu.transport.redis import Channel
from pymongo.database import Database

from backtests.jobs import run_backtest_job
from backtests.runs import SKIPPED, STOPPED, Beat, Report, resolve_target, warm_up
from backtests.sweeps import plan_sweep, run_sweep_chunk
from tasks.celery_app import app
from tickflow.history import DownloadReport, HistoryInputError, VenueHistory, VenueUnavailable, download
from tickflow.settings import ExchangeSettings, SettingsError
from tickflow.storage.backtest_results import BacktestRepository, JobNotFound, State, SweepRepository
from tickflow.storage.candles import CandleStore
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.downloads import DownloadNotFound, DownloadRepository
from tickflow.storage.events import publish
from tickflow.storage.strategies import StrategyRepository
from workers.venue_limits import history_session

log = logging.getLogger(__name__)

QUEUE = "backtests"  # named at every send: Celery 5.7 deprecates a task's own ``queue`` attribute
# MongoDB unreachable for a moment (a failover, a restart): try again rather than fail the run.
# A retry waits in its worker as an unacknowledged message with an ETA: the backoff stays
# under the visibility timeout, or the waiting retry would be restored and run twice.
_RETRY: dict[str, Any] = {
    "autoretry_for": (pymongo.errors.ConnectionFailure,),
    "retry_backoff": True,
    "retry_backoff_max": 20,
    "max_retries": 10,
}


FINISHED = "finished"
"""The ``stage`` of the ``job`` event an execution sends when it ends; its ``state`` says how."""
JobStatus = Callable[[], dict[str, Any]]
"""Reads a run's or a sweep's ``job`` event fields now (``*Repository.job_status``)."""


class EnqueueFailed(RuntimeError):
    """The broker did not accept the task; what was created is marked failed (a sweep can be resumed)."""


@app.task(bind=True, **_RETRY)
def run(self: Task, run_id: str) -> dict[str, str]:
    """Execute backtest run ``run_id``; returns its outcome."""
    db = mongo_db()
    outcome = _executed(
        self,
        run_id,
        lambda: BacktestRepository(db).job_status(run_id),
        lambda report: run_backtest_job(db, run_id, _worker(self), report, _keepalive(self), _heartbeat_s()),
    )
    if outcome in (STOPPED, SKIPPED) and _decided_by_another_delivery(db, run_id, self.request.id):
        raise Ignore()  # acknowledged, and the result the first finisher stored under this task id stays
    return {"id": run_id, "outcome": outcome}


def _decided_by_another_delivery(db: Database, run_id: str, task_id: str) -> bool:
    """Whether another delivery of this same task finished the run (``done`` or ``failed``).

    Its result (``done``...) is the task's; this delivery, which stopped or
    skipped, must not overwrite it with ``stopped``.
    """
    try:
        doc = BacktestRepository(db).get(run_id)
    except JobNotFound:
        return False
    return doc.get("task_id") == task_id and doc["state"] in (State.DONE, State.FAILED)


@app.task(bind=True, **_RETRY)
def sweep_chunk(self: Task, chunk_id: str) -> dict[str, str]:
    """Execute sweep chunk ``chunk_id``; returns its outcome. Its job events are its sweep's."""
    db = mongo_db()
    sweeps = SweepRepository(db)
    outcome = _executed(
        self,
        chunk_id,
        lambda: sweeps.job_status(sweeps.sweep_of(chunk_id)),
        lambda report: run_sweep_chunk(db, chunk_id, _worker(self), report, _keepalive(self), _heartbeat_s()),
    )
    return {"id": chunk_id, "outcome": outcome}


PROGRESS_EVERY_S = 0.5
"""How often a download records its progress and sends a ``job`` event (each page may take 0.2 s)."""


@app.task(bind=True, **_RETRY)
def download_candles(self: Task, download_id: str) -> dict[str, str]:
    """Run download ``download_id`` (``tickflow.storage.downloads``): the venue's missing candles into the store.

    Progress, in candle slots, goes to the download's document and, as ``job`` events (``kind`` download), to
    the live stream. Running it again (a redelivered message) resumes where the store ends.
    """
    downloads = DownloadRepository(mongo_db())
    doc = downloads.begin(download_id)
    if doc is None:
        return {"id": download_id, "outcome": SKIPPED}
    oid = doc["_id"]
    renew, last = _keepalive(self), 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if time.monotonic() - last < PROGRESS_EVERY_S and done < total:
            return
        last = time.monotonic()
        downloads.progress(oid, done, total)
        _publish_job(lambda: downloads.job_status(oid), "downloading")
        if renew is not None:
            renew()

    try:
        settings = ExchangeSettings.from_env()
        venue = VenueHistory(settings, session=history_session(settings))
        report = download(
            CandleStore(mongo_db()), venue, doc["symbol"], doc["timeframe"], doc["since"], doc["until"], progress
        )
    except (HistoryInputError, VenueUnavailable, SettingsError) as exc:
        downloads.fail(oid, str(exc))
        outcome = "failed"
    except Exception as exc:  # a bug, or a limit: the series must not stay blocked behind a download that died
        downloads.fail(oid, f"stopped by {type(exc).__name__}: {exc}")
        _publish_job(lambda: downloads.job_status(oid), FINISHED)
        raise
    else:
        downloads.finish(oid, _report(report))
        outcome = "done"
    _publish_job(lambda: downloads.job_status(oid), FINISHED)
    return {"id": download_id, "outcome": outcome}


def _report(report: DownloadReport) -> dict[str, Any]:
    return {
        "start": report.start_ms,
        "end": report.end_ms,
        "already_present": report.already_present,
        "fetched": report.fetched,
        "inserted": report.inserted,
        "updated": report.updated,
        "pages": report.pages,
        "waited_s": round(report.waited_s, 3),
        "gaps": [{"first": gap.first_ts, "last": gap.last_ts, "missing": gap.missing} for gap in report.gaps],
    }


def submit_download(db: Database, symbol: str, timeframe: str, since_ms: int, until_ms: int | None) -> dict:
    """Store a queued download and send its task; returns its document. Raises ``DownloadRunning`` or
    ``EnqueueFailed``."""
    repository = DownloadRepository(db)
    doc = repository.create(ExchangeSettings.from_env().exchange, symbol, timeframe, since_ms, until_ms)
    try:
        download_candles.apply_async((str(doc["_id"]),), queue=QUEUE)
    except OperationalError as exc:
        repository.fail(doc["_id"], f"the task could not be queued: {exc}")
        raise EnqueueFailed(f"the task queue is unreachable: {exc}") from exc
    return doc


@worker_init.connect
def _load_compiled_backtester(**_: Any) -> None:
    """In the worker's main process, before the pool forks: every pool process inherits the compiled code."""
    warm_up()


def _worker(task: Task) -> dict[str, Any]:
    """Who runs this attempt: recorded with it, so an operator (or a crash test) can find the process."""
    return {"hostname": task.request.hostname, "pid": os.getpid()}


def _visibility_timeout() -> float:
    options = app.conf.broker_transport_options or {}
    return float(options.get("visibility_timeout", Channel.visibility_timeout))


def _heartbeat_s() -> float:
    """Six renewals per visibility timeout (5 s in production): several may be missed before a redelivery."""
    return _visibility_timeout() / 6


_broker_clients: dict[int, redis.Redis] = {}


def _broker_client() -> redis.Redis:
    """A plain Redis client on the broker's database, one per (pool) process."""
    client = _broker_clients.get(os.getpid())
    if client is None:
        client = _broker_clients[os.getpid()] = redis.Redis.from_url(app.conf.broker_url, socket_timeout=5)
    return client


def _keepalive(task: Task) -> Beat | None:
    """Renew the lease of the message this task came in (see the module's docstring); ``None`` if impossible.

    Only on the Redis transport over TCP (``redis://``, ``rediss://``; not
    sentinel or a unix socket, where jobs simply rely on first finisher wins),
    for a message that has a delivery tag. ``ZADD XX`` only moves an
    existing entry: a message acknowledged or already restored meanwhile is
    not brought back.
    """
    tag = (task.request.properties or {}).get("delivery_tag")
    if not tag or task.request.is_eager or not str(app.conf.broker_url).startswith(("redis://", "rediss://")):
        return None
    options = app.conf.broker_transport_options or {}
    index = options.get("global_keyprefix", "") + options.get("unacked_index_key", Channel.unacked_index_key)

    def renew() -> None:
        _broker_client().zadd(index, {tag: time.time()}, xx=True)

    return renew


def _executed(task: Task, job_id: str, status: JobStatus, execute: Callable[[Report], str]) -> str:
    """``execute(report)``'s outcome, with a ``job`` event at each stage and one (stage ``finished``) at the end.

    No end event when the execution was skipped: nothing changed. A crash has failed the job by
    the time the end event reads its state.
    """
    outcome = None
    try:
        outcome = execute(_progress(task, job_id, status))
        return outcome
    finally:
        if outcome != SKIPPED:
            _publish_job(status, FINISHED)


def _progress(task: Task, job_id: str, status: JobStatus) -> Report:
    """Each stage as a ``job`` event (for result pages, through the live stream) and as the
    task's ``PROGRESS`` state (for Flower and ``AsyncResult`` readers)."""

    def report(stage: str) -> None:
        _publish_job(status, stage)
        task.update_state(state="PROGRESS", meta={"id": job_id, "stage": stage})

    return report


def _publish_job(status: JobStatus, stage: str) -> None:
    """Send ``status()`` and ``stage`` as a ``job`` event. Never fails the job: a lost event only
    leaves a result page waiting for the next one (or for a reload)."""
    try:
        publish(redis_client(), "job", {**status(), "stage": stage})
    except (redis.RedisError, pymongo.errors.PyMongoError, JobNotFound, DownloadNotFound) as exc:
        log.warning("job event not sent: %s", exc)


def submit_backtest(db: Database, strategies: StrategyRepository, strategy_id: str, **request: Any) -> dict:
    """Check the request, store a queued run and send its task; returns the run's document.

    ``request`` takes ``params``, ``symbol``, ``start``, ``end`` and ``cash``
    (see :func:`backtests.runs.resolve_target`). Raises
    :class:`backtests.errors.InvalidRequest` or :class:`EnqueueFailed`.
    """
    target = resolve_target(strategies, strategy_id, **request)
    repository = BacktestRepository(db)
    task_id = uuid()  # stored first: the worker can never run ahead of the document naming its task
    doc = repository.create({**target, "task_id": task_id})
    try:
        run.apply_async((str(doc["_id"]),), task_id=task_id, queue=QUEUE)
    except OperationalError as exc:
        repository.fail_unsent(doc["_id"], f"the task could not be queued: {exc}")
        raise EnqueueFailed(f"the task queue is unreachable: {exc}") from exc
    return doc


def submit_sweep(db: Database, strategies: StrategyRepository, strategy_id: str, **request: Any) -> dict:
    """Plan a sweep (see :func:`backtests.sweeps.plan_sweep`), store it and send its chunks; returns its document."""
    fields, chunks = plan_sweep(strategies, strategy_id, **request)
    repository = SweepRepository(db)
    doc, chunk_ids = repository.create(fields, chunks)
    _send_chunks(repository, doc["_id"], chunk_ids)
    return doc


def resume_sweep(db: Database, sweep_id: str) -> tuple[dict, int]:
    """Send again every chunk of a sweep that is not done; returns the sweep and how many chunks were sent.

    For a sweep that failed, or whose worker died (its tasks come back by
    themselves after the broker's visibility timeout, this is only sooner). A
    chunk still running elsewhere runs once more alongside (the first to
    finish wins); one that finished meanwhile is skipped. ``WrongState`` for
    a done or cancelled sweep.
    """
    repository = SweepRepository(db)
    doc, chunk_ids = repository.reopen(sweep_id)
    if chunk_ids:
        _send_chunks(repository, doc["_id"], chunk_ids)
    else:  # every chunk was done: only the final flip was missing
        repository.finish_if_complete(doc["_id"])
    return repository.get(doc["_id"]), len(chunk_ids)


def _send_chunks(repository: SweepRepository, sweep_id: ObjectId, chunk_ids: Iterable[ObjectId]) -> None:
    try:
        group(sweep_chunk.si(str(chunk_id)).set(queue=QUEUE) for chunk_id in chunk_ids).apply_async()
    except OperationalError as exc:
        repository.fail(sweep_id, f"the chunks could not be queued: {exc}")
        raise EnqueueFailed(f"the task queue is unreachable: {exc}") from exc
