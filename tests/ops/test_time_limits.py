"""Every task has a soft and a hard time limit fitted to its queue, and a worker enforces them.

The enforcing is checked on a real ``celery worker`` subprocess running
``tests.ops.overrunning_tasks`` (the production app plus two tasks that overrun).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from backtests.runs import DEFAULT_HEARTBEAT_S
from tasks.celery_app import VISIBILITY_TIMEOUT_S
from tasks.celery_app import app as production_app
from tasks.time_limits import QUEUE_LIMITS, queue_of
from tests.celery_workers import CeleryWorker, started_workers
from tests.ops.overrunning_tasks import LIMIT, QUEUE, hang, sleep

LIVE_QUEUES = ("ingest", "strategy", "orders")


@pytest.fixture
def start_worker(services, tmp_path_factory) -> Iterator[Callable[..., CeleryWorker]]:
    def new(log_dir, **options) -> CeleryWorker:
        return CeleryWorker(log_dir, "overrun", QUEUE, "tests.ops.overrunning_tasks", concurrency=1, **options)

    yield from started_workers(new, tmp_path_factory.mktemp("workers"))


def tickflow_tasks() -> list[str]:
    production_app.loader.import_default_modules()
    return sorted(name for name in production_app.tasks if name.startswith("tasks."))


def test_every_tickflow_task_has_the_soft_and_hard_limit_of_its_queue():
    for name in tickflow_tasks():
        task, limit = production_app.tasks[name], QUEUE_LIMITS[queue_of(name)]
        assert (task.soft_time_limit, task.time_limit) == (limit.soft_s, limit.hard_s), name


def test_tasks_run_where_their_limits_say():
    queues = {name: queue_of(name) for name in tickflow_tasks()}
    assert queues["tasks.live.ingest"] == "ingest"
    assert queues["tasks.live.decide"] == "strategy"
    assert queues["tasks.live.execute"] == queues["tasks.maintenance.prune_live_keys"] == "orders"
    assert queues["tasks.backtests.run"] == queues["tasks.backtests.sweep_chunk"] == "backtests"


@pytest.mark.parametrize("queue", LIVE_QUEUES)
def test_a_live_task_is_killed_before_the_broker_could_deliver_it_again(queue):
    limit = QUEUE_LIMITS[queue]
    assert 0 < limit.soft_s < limit.hard_s < VISIBILITY_TIMEOUT_S


def test_a_backtest_renews_its_lease_many_times_before_its_soft_limit_and_has_time_to_record_failing():
    limit = QUEUE_LIMITS["backtests"]
    assert limit.soft_s > 100 * DEFAULT_HEARTBEAT_S
    assert limit.hard_s - limit.soft_s >= 30


def test_a_task_past_its_soft_limit_gets_an_exception_and_the_same_process_goes_on(start_worker):
    start_worker()
    before = sleep.apply_async((0,), queue=QUEUE).get(timeout=30)
    overrun = sleep.apply_async((60,), queue=QUEUE)
    assert isinstance(overrun.get(timeout=30, propagate=False), SoftTimeLimitExceeded)  # a hard kill would not say so
    assert sleep.apply_async((0,), queue=QUEUE).get(timeout=30) == before


def test_a_task_past_its_hard_limit_is_killed_and_the_worker_goes_on_with_a_new_process(start_worker):
    worker = start_worker()
    before = sleep.apply_async((0,), queue=QUEUE).get(timeout=30)
    overrun = hang.apply_async((60,), queue=QUEUE)
    assert isinstance(overrun.get(timeout=30, propagate=False), TimeLimitExceeded)
    after = sleep.apply_async((0,), queue=QUEUE).get(timeout=30)
    assert after != before  # the killed process was replaced
    assert worker.process.poll() is None
    assert f"Hard time limit ({LIMIT.hard_s}" in worker.tail()  # the kill was the hard limit, not a crash


def test_a_pool_process_over_its_memory_bound_is_replaced_once_its_task_is_done(start_worker):
    """``TICKFLOW_WORKER_MAX_MEMORY_MB`` (Celery's ``worker_max_memory_per_child``): here every process is past a
    64 MB bound after any task, so each task runs in a fresh one, and none is lost."""
    worker = start_worker(env={"TICKFLOW_WORKER_MAX_MEMORY_MB": "64"})
    pids = [sleep.apply_async((0,), queue=QUEUE).get(timeout=30) for _ in range(3)]
    assert len(set(pids)) == 3
    assert worker.process.poll() is None
