"""gunicorn's hooks for the API, loaded by ``gunicorn -c python:app.gunicorn_hooks`` (the Procfile's ``api``).

Once a worker has built the app, its start-up objects (Flask, numpy, pandas, numba, TA-Lib: about
180,000) are frozen out of garbage collection, as the live workers, the feed and the stream
process do (:func:`tickflow.runtime.freeze_startup_objects`). Without it, each full collection
walked them all and stopped the worker's every thread for about 60 ms (measured 2026-12-05 on the
2-core CI machine): most of the API's p99 at 500 req/s.
"""

from __future__ import annotations

from typing import Any

from tickflow.runtime import freeze_startup_objects


def post_worker_init(worker: Any) -> None:
    freeze_startup_objects()
