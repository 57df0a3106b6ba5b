"""Celery tasks for backtests and sweeps, and the functions that submit them.

Messages carry one id each, never data: a run's or a chunk's document says
everything, so a message is tiny, and a redelivered one finds the document as
it is now (cancelled, already done...). The application's delivery settings
(late acks, reject on worker lost, prefetch 1) bring back the task of a
worker that died; the job logic (``backtests.jobs``, ``backtests.sweeps``)
makes running it again harmless.

A sweep fans its chunks out as a group. Its completion is not a chord
callback: the Redis result backend counts completions, so a chunk that ran
twice (redelivered after its visibility timeout) would fire the callback
early or twice. The chunk documents decide instead: the execution that
finishes the last chunk flips the sweep to ``done``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pymongo.errors
from bson import ObjectId
from celery import Task, group
from celery.signals import worker_init
from celery.utils import uuid
from kombu.exceptions import OperationalError
from pymongo.database import Database

from backtests.jobs import run_backtest_job
from backtests.runs import Report, resolve_target, warm_up
from backtests.sweeps import plan_sweep, run_sweep_chunk
from tasks.celery_app import app
from tickflow.storage.backtest_results import BacktestRepository, SweepRepository
from tickflow.storage.connections import mongo_db
from tickflow.storage.strategies import StrategyRepository

QUEUE = "backtests"  # named at every send: Celery 5.7 deprecates a task's own ``queue`` attribute
# MongoDB unreachable for a moment (a failover, a restart): try again rather than fail the run.
_RETRY: dict[str, Any] = {"autoretry_for": (pymongo.errors.ConnectionFailure,), "retry_backoff": True,
                          "retry_backoff_max": 60, "max_retries": 10}


class EnqueueFailed(RuntimeError):
    """The broker did not accept the task; what was created is marked failed (a sweep can be resumed)."""


@app.task(name="tickflow.backtests.run", bind=True, **_RETRY)
def run(self: Task, run_id: str) -> dict[str, str]:
    """Execute backtest run ``run_id``; returns its outcome."""
    return {"id": run_id, "outcome": run_backtest_job(mongo_db(), run_id, _worker(self), _progress(self, run_id))}


@app.task(name="tickflow.backtests.sweep_chunk", bind=True, **_RETRY)
def sweep_chunk(self: Task, chunk_id: str) -> dict[str, str]:
    """Execute sweep chunk ``chunk_id``; returns its outcome."""
    return {"id": chunk_id, "outcome": run_sweep_chunk(mongo_db(), chunk_id, _worker(self), _progress(self, chunk_id))}


@worker_init.connect
def _load_compiled_backtester(**_: Any) -> None:
    """In the worker's main process, before the pool forks: every pool process inherits the compiled code."""
    warm_up()


def _worker(task: Task) -> dict[str, Any]:
    """Who runs this attempt: recorded with it, so an operator (or a crash test) can find the process."""
    return {"hostname": task.request.hostname, "pid": os.getpid()}


def _progress(task: Task, job_id: str) -> Report:
    """Each stage as the task's ``PROGRESS`` state, for Flower and ``AsyncResult`` readers."""
    def report(stage: str) -> None:
        task.update_state(state="PROGRESS", meta={"id": job_id, "stage": stage})
    return report


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

    For a sweep whose worker died (its tasks come back only after the
    broker's visibility timeout) or that failed. A chunk still running
    elsewhere is taken over by the new attempt; one that finished meanwhile
    is skipped. ``WrongState`` for a done or cancelled sweep.
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


