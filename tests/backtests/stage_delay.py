"""The production Celery app, pausing at every stage of a run or sweep chunk: ``celery -A tests.backtests.stage_delay``.

Crash and cancellation tests need a real worker caught in the middle of a run. Every
stage change of a job is a ``PROGRESS`` state update (``tasks.backtests._progress``);
with ``TICKFLOW_TEST_STAGE_DELAY_S`` set, this app sleeps that many seconds after each one.
"""

import os
import time

from tasks import app

STAGE_DELAY_ENV = "TICKFLOW_TEST_STAGE_DELAY_S"
DELAY_S = float(os.environ.get(STAGE_DELAY_ENV) or 0)

if DELAY_S > 0:
    _update_state = app.Task.update_state

    def _update_state_then_pause(self, task_id=None, state=None, meta=None, **kwargs):
        _update_state(self, task_id, state, meta, **kwargs)
        if state == "PROGRESS":
            time.sleep(DELAY_S)

    app.Task.update_state = _update_state_then_pause
