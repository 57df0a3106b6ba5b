"""Live equity history: each active strategy's equity, balance and positions held at every close of its timeframe.

Bucketed like candles, not one document per point: one document per strategy and UTC day
(``_id`` ``<strategy id>:<day start ms>``) holding its points ``{t, equity, balance,
positions}`` in time order. A point is written at most once per close time, so a repeated
write (a redelivered ``execute``, a flush retried after a crash) changes nothing.

Points reach MongoDB through a Redis outbox (``keys.equity_outbox()``), as trade records do:
the live engine records them in Redis at the close and copies them here, and beat's drain
retries whatever MongoDB could not take.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from tickflow.storage.schema import EQUITY_HISTORY

DAY_MS = 86_400_000
DUPLICATE_KEY = 11000
COLUMNS = ("equity", "balance", "positions")


def point_field(point: dict[str, Any]) -> str:
    """The outbox field of a point: one per strategy and close."""
    return f"{point['strategy_id']}:{point['t']}"


class EquityHistoryRepository:
    def __init__(self, db: Database) -> None:
        self._history = db[EQUITY_HISTORY]

    def add(self, points: Iterable[dict[str, Any]]) -> None:
        """Store points ``{strategy_id, t, equity, balance, positions}``; a point already stored is left as it is."""
        writes = []
        for point in points:
            day = point["t"] - point["t"] % DAY_MS
            value = {"t": point["t"], **{name: point[name] for name in COLUMNS}}
            writes.append(
                UpdateOne(
                    {"_id": f"{point['strategy_id']}:{day}", "points.t": {"$ne": point["t"]}},
                    {
                        "$setOnInsert": {"strategy_id": point["strategy_id"], "day": day},
                        "$push": {"points": {"$each": [value], "$sort": {"t": 1}}},
                    },
                    upsert=True,
                )
            )
        if not writes:
            return
        try:
            self._history.bulk_write(writes, ordered=False)
        except BulkWriteError as error:
            # The filter misses a day document that already holds the point, so its upsert collides
            # with that document's _id: the point is stored, which is all that was asked.
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise

    def read(self, strategy_id: str, start_ms: int | None, end_ms: int | None) -> dict[str, np.ndarray]:
        """The points in ``[start_ms, end_ms)`` as columns ``t`` and ``COLUMNS``, in time order."""
        query: dict[str, Any] = {"strategy_id": strategy_id}
        if start_ms is not None or end_ms is not None:
            query["day"] = {
                **({"$gte": start_ms - start_ms % DAY_MS} if start_ms is not None else {}),
                **({"$lt": end_ms} if end_ms is not None else {}),
            }
        points = [p for doc in self._history.find(query).sort("day", ASCENDING) for p in doc["points"]]
        return columns(points, start_ms, end_ms)


def columns(points: list[dict[str, Any]], start_ms: int | None, end_ms: int | None) -> dict[str, np.ndarray]:
    """Points as sorted, de-duplicated columns, cut to ``[start_ms, end_ms)``."""
    by_time = {p["t"]: p for p in points}
    times = np.array(sorted(by_time), dtype=np.int64)
    keep = np.ones(len(times), dtype=bool)
    if start_ms is not None:
        keep &= times >= start_ms
    if end_ms is not None:
        keep &= times < end_ms
    times = times[keep]
    return {"t": times, **{name: np.array([by_time[t][name] for t in times.tolist()]) for name in COLUMNS}}


def outbox_points(raw: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(value) for value in raw]
