"""The production Celery app plus two tasks that overrun, under live-like limits of 1 s soft and 2 s hard:
``celery -A tests.ops.overrunning_tasks worker -Q tests-overrun``.

The production tasks keep their own limits (``tasks.time_limits``); these two, on a queue
of their own, get the same kind of limits, short enough for a test.
"""

from __future__ import annotations

import os
import time

from celery.exceptions import SoftTimeLimitExceeded

from tasks.celery_app import app
from tasks.time_limits import QUEUE_LIMITS, TASK_QUEUES, QueueTimeLimits, TimeLimit

QUEUE = "tests-overrun"
LIMIT = TimeLimit(soft_s=1, hard_s=2)

app.conf.task_annotations = [
    QueueTimeLimits({**QUEUE_LIMITS, QUEUE: LIMIT}, {**TASK_QUEUES, "tests.ops.overrunning_tasks.*": QUEUE})
]


@app.task
def sleep(seconds: float) -> int:
    """Sleep, then return this pool process's id; stopped by the soft limit like any Python code."""
    time.sleep(seconds)
    return os.getpid()


@app.task
def hang(seconds: float) -> int:
    """Sleep through the soft limit, as compiled code that never returns to the interpreter would."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            time.sleep(left)
        except SoftTimeLimitExceeded:
            pass
    return os.getpid()
