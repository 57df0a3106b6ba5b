"""Celery time limits, per queue: no task holds a worker process forever.

A task past its soft limit gets ``SoftTimeLimitExceeded`` raised inside it, so it can
record why it stopped (a backtest or a sweep chunk fails its job with the reason,
``backtests.runs.guarded``); past its hard limit the worker kills its pool process, starts
a new one and acknowledges the message (a task that always overruns must not come back
forever). Code that never returns to the interpreter (a long compiled numba loop) only
stops at the hard limit.

The limits follow the queue a task runs on:

* the live queues (``ingest``, ``strategy``, ``orders``): seconds. Their work is
  milliseconds; one that runs for seconds is stuck on something (a store that stopped
  answering past its timeouts, a bug), and the candle it works on is stale by then. Each
  hard limit is below the broker's visibility timeout, so a live task is killed before
  another worker's sweep could restore its message and run it a second time alongside.
* ``backtests``: half an hour. A run or a sweep chunk takes seconds to a minute on a
  million bars; while it runs it renews its message's lease (``tasks.backtests``), so the
  visibility timeout does not bound it and only this limit does.

Celery applies a limit per task, not per queue, so each task is mapped to the queue it
is sent to (``tasks.live`` and ``tasks.beat`` send them). The map is by name, through
``task_annotations``; ``tests/ops/test_time_limits.py`` checks that every task has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from celery import Task


@dataclass(frozen=True)
class TimeLimit:
    soft_s: float
    hard_s: float


QUEUE_LIMITS: Mapping[str, TimeLimit] = {
    "ingest": TimeLimit(soft_s=5, hard_s=10),
    "strategy": TimeLimit(soft_s=10, hard_s=20),
    "orders": TimeLimit(soft_s=20, hard_s=25),  # also beat's upkeep: pruning scans every live key
    "backtests": TimeLimit(soft_s=1800, hard_s=1860),  # a minute to record the failure after the soft limit
}

TASK_QUEUES: Mapping[str, str] = {
    "tasks.live.ingest": "ingest",
    "tasks.live.decide": "strategy",
    "tasks.live.*": "orders",  # execute, and start/stop/drain when sent as messages
    "tasks.maintenance.*": "orders",
    "tasks.backtests.*": "backtests",
}
"""Task name (or pattern, first match wins) -> the queue it runs on; a shard's ``orders.2`` is ``orders``."""


def queue_of(task_name: str, task_queues: Mapping[str, str] = TASK_QUEUES) -> str | None:
    """The queue ``task_name`` runs on, ``None`` for a task not TickFlow's (Celery's own)."""
    return next((queue for pattern, queue in task_queues.items() if fnmatchcase(task_name, pattern)), None)


class QueueTimeLimits:
    """A ``task_annotations`` entry giving each task its queue's soft and hard limit."""

    def __init__(
        self, limits: Mapping[str, TimeLimit] = QUEUE_LIMITS, task_queues: Mapping[str, str] = TASK_QUEUES
    ) -> None:
        self.limits = limits
        self.task_queues = task_queues

    def annotate(self, task: Task) -> dict[str, Any] | None:
        queue = queue_of(task.name, self.task_queues)
        if queue is None:
            return None
        limit = self.limits[queue]
        return {"soft_time_limit": limit.soft_s, "time_limit": limit.hard_s}
