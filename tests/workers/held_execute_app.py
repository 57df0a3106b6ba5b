"""``tests.workers.live_app`` whose ``execute`` waits while a file exists: ``celery -A tests.workers.held_execute_app``.

With ``TICKFLOW_TEST_HOLD_EXECUTE`` naming a file, an ``execute`` that starts while the file exists creates
``<file>.held`` and waits until the file is removed: a test can fault Redis while a live task runs, its message
unacknowledged, and let it go on afterwards. Without the variable, or the file, it runs at once.
"""

import os
import time
from pathlib import Path

from celery.signals import task_prerun

from tests.workers.live_app import app

HOLD_ENV = "TICKFLOW_TEST_HOLD_EXECUTE"


@task_prerun.connect
def _hold_execute(task=None, **_) -> None:
    hold = os.environ.get(HOLD_ENV)
    if hold and task.name == "tasks.live.execute" and os.path.exists(hold):
        Path(f"{hold}.held").touch()
        while os.path.exists(hold):
            time.sleep(0.02)


__all__ = ["app"]
