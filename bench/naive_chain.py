"""The naive live design, for ``bench/live.py``'s comparison figure: a chain of four tasks per tick.

``ingest -> indicators -> evaluate -> execute``, each step its own task and message, the
indicator tails travelling between them as JSON. TickFlow runs ``indicators`` and
``evaluate`` in one ``decide`` task instead (``tasks.live``); these two tasks exist only in
the bench's worker (``--include bench.naive_chain``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tasks.celery_app import app
from tasks.live import engine
from workers.engine import CloseJob


@app.task(ignore_result=True)
def indicators(job: dict[str, Any]) -> dict[str, Any]:
    tails = engine().indicators(CloseJob.from_dict(job))
    as_lists = {
        symbol: {
            sid: {name: values.tolist() for name, values in series.items()} for sid, series in per_strategy.items()
        }
        for symbol, per_strategy in tails.items()
    }
    return {"job": job, "tails": as_lists}


@app.task(ignore_result=True)
def evaluate(handed: dict[str, Any]) -> dict[str, Any]:
    tails = {
        symbol: {
            sid: {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}
            for sid, series in per_strategy.items()
        }
        for symbol, per_strategy in handed["tails"].items()
    }
    engine().evaluate(CloseJob.from_dict(handed["job"]), tails)
    return handed["job"]
