"""gunicorn's hooks for the API, loaded by ``gunicorn -c python:app.gunicorn_hooks`` (the Procfile's ``api``).

After a worker has built the app, everything loaded so far (Flask, numpy, pandas, numba, TA-Lib:
about 180,000 objects) is moved out of the garbage collector's sight with :func:`gc.freeze`. Without
it, each of Python's full collections walks them all and stops the worker's every thread for about
60 ms (measured 2026-12-05 on the 2-core CI machine), which was most of the API's p99 under load.
Objects loaded at start-up live as long as the process, so nothing the collector could free is lost.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    gc.collect()  # start-up's own garbage goes first, not into the frozen generation
    gc.freeze()
