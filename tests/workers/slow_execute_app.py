"""``tests.workers.live_app`` with ``execute`` sleeping 30 s first: ``celery -A tests.workers.slow_execute_app``.

A test kills such a worker while ``execute`` sleeps, its message unacknowledged, to
show that a chain cut between ``decide`` and ``execute`` places its order once.
"""

import time

from celery.signals import task_prerun

from tests.workers.live_app import app

EXECUTE_DELAY_S = 30


@task_prerun.connect
def _sleep_before_execute(task=None, **_) -> None:
    if task.name == "tasks.live.execute":
        time.sleep(EXECUTE_DELAY_S)


__all__ = ["app"]
