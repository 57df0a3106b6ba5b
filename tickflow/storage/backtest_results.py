"""Backtest runs and parameter sweeps in MongoDB, written so that no reader ever sees half a result.

Five collections (names and indexes in :mod:`tickflow.storage.schema`):

* ``backtest_results``: one document per backtest run: the request, a snapshot
  of the strategy spec, the state, and once done the stats, the open trades and
  an equity chart of at most ~1,000 points.
* ``backtest_arrays``: what does not fit in a 16 MB document (a million-bar
  equity curve is 16 MB of timestamps and values alone): the full curve and the
  trade log as packed little-endian columns, cut into parts of ``PART_BYTES``,
  keyed by run and attempt.
* ``sweeps``: one document per sweep: the request, the spec snapshot, the
  parameter space, the objective and the state. Progress and the best result
  are not stored there but computed from the two collections below, so they
  can never drift from what the chunks actually did.
* ``sweep_chunks``: a slice of a sweep's parameter sets, the unit of work of a
  Celery task, with its own state and attempt counter.
* ``sweep_results``: one document per parameter set run, with its stats and
  its ``score`` (the objective, negated when minimising), so that the ranking
  is an index scan.

Every unit of work (a run, a chunk) is *claimed* before it runs: the claim
moves it to ``running`` and increments ``attempts`` in one update, and the
attempt number it returns identifies that execution (its arrays are keyed by
it). **The first execution to finish wins**: results are written first (arrays
under the attempt's key; sweep results by parameter set, identical on every
attempt), then the state flips to ``done`` in one update conditional on the
state still being ``running``, whichever attempt it is. A claim never
invalidates an execution still running, so a task delivered again while the
first delivery still runs (the broker's visibility timeout passed) cannot make
a long job restart forever, and an attempt whose worker died blocks nothing.
Every other execution finds the state no longer ``running`` at its next
progress check or at its final write, and stops without writing. A cancelled
run is never overwritten; whatever a crash leaves behind is either unreachable
(arrays of an attempt that never flipped, deleted by the winner or by the
loser itself) or identical to the final result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database

from strategies.domain import SkipReason, TradeLog
from tickflow.storage.schema import BACKTEST_ARRAYS, BACKTEST_RESULTS, SWEEP_CHUNKS, SWEEP_RESULTS, SWEEPS

PART_BYTES = 4 * 1024 * 1024  # per array part: well under 16 MB, and a trade page reads one or two
TRADE_COLUMNS = tuple(field.name for field in dataclasses.fields(TradeLog))
EQUITY_COLUMNS = ("ts", "equity")
CURVE_COLUMNS = (*EQUITY_COLUMNS, "buy_hold")
"""The per-bar curves of a run; runs stored before buy-and-hold existed have only the first two."""


class State(StrEnum):
    """Where a run, a sweep or a chunk is. ``done``, ``failed`` and ``cancelled`` are final for users."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (State.QUEUED, State.RUNNING)


class JobNotFound(LookupError):
    """No document has this id (including ids that are not ObjectIds at all)."""


class WrongState(ValueError):
    """The document's state does not allow the operation; ``state`` is the state it is in."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


def now() -> datetime:
    """UTC, truncated to the millisecond MongoDB keeps, so a write returns what a read will."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def object_id(value: str | ObjectId) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    if not isinstance(value, str) or not ObjectId.is_valid(value):
        raise JobNotFound(value)
    return ObjectId(value)


def json_number(value: Any) -> Any:
    """NaN and infinities as ``None``: MongoDB would keep them, but JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _page(
    collection: Collection,
    query: Mapping[str, Any],
    page: int,
    per_page: int,
    projection: Mapping[str, Any] | None = None,
) -> tuple[list[dict], int]:
    """Newest first, one page; and how many match in all."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    total = collection.count_documents(query)
    cursor = collection.find(query, projection).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
    return list(cursor.skip((page - 1) * per_page).limit(per_page)), total


def _claim(
    collection: Collection, query: Mapping[str, Any], worker: Mapping[str, Any], fields: Mapping[str, Any]
) -> dict | None:
    """Move a claimable document to ``running`` under a new attempt number, or ``None`` if it is not claimable.

    Claimable: queued, or running (another execution may still be at it, or
    may have died: either way this one runs too, and the first to finish
    wins). The returned ``attempts`` is this execution's attempt number.
    """
    stamp = now()
    return collection.find_one_and_update(
        {**query, "state": {"$in": list(ACTIVE)}},
        {
            "$set": {
                "state": State.RUNNING,
                "worker": dict(worker),
                "updated_at": stamp,
                "heartbeat_at": stamp,
                **fields,
            },
            "$min": {"started_at": stamp},
            "$inc": {"attempts": 1},
        },
        return_document=ReturnDocument.AFTER,
    )


def _if_running(oid: ObjectId) -> dict[str, Any]:
    """The filter matching a document only while it still runs: not yet finished by any attempt, nor cancelled."""
    return {"_id": oid, "state": State.RUNNING}


def _heartbeat(collection: Collection, oid: ObjectId) -> bool:
    """Stamp ``heartbeat_at`` (some execution is alive); ``False`` once the document no longer runs."""
    return collection.update_one(_if_running(oid), {"$set": {"heartbeat_at": now()}}).matched_count == 1


class PackedArrays:
    """Named numpy columns of one owner (a run) and attempt, stored in parts of at most ``PART_BYTES``.

    Each part records the element range ``[first, end)`` it holds, so
    reading a slice fetches only the parts that overlap it.
    """

    def __init__(self, collection: Collection) -> None:
        self._parts = collection

    def write(self, owner: ObjectId, attempt: int, columns: Mapping[str, np.ndarray]) -> None:
        docs = []
        for name, values in columns.items():
            values = np.ascontiguousarray(values)
            dtype = values.dtype.newbyteorder("<")
            step = max(1, PART_BYTES // dtype.itemsize)
            for first in range(0, max(len(values), 1), step):
                part = values[first : first + step].astype(dtype, copy=False)
                docs.append(
                    {
                        "owner": owner,
                        "attempt": attempt,
                        "name": name,
                        "first": first,
                        "end": first + len(part),
                        "dtype": dtype.str,
                        "data": part.tobytes(),
                    }
                )
        if docs:
            self._parts.insert_many(docs, ordered=False)

    def read(self, owner: ObjectId, attempt: int, name: str, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Elements ``lo`` up to (not including) ``hi`` of column ``name``."""
        query: dict[str, Any] = {"owner": owner, "attempt": attempt, "name": name, "end": {"$gt": lo}}
        if hi is not None:
            query["first"] = {"$lt": hi}
        parts = list(self._parts.find(query, {"_id": 0, "first": 1, "dtype": 1, "data": 1}).sort("first", ASCENDING))
        if not parts:  # a slice past the end: empty, of the column's type
            any_part = self._parts.find_one({"owner": owner, "attempt": attempt, "name": name}, {"dtype": 1})
            return np.empty(0, np.dtype(any_part["dtype"]) if any_part else np.float64)
        base = parts[0]["first"]
        joined = np.frombuffer(b"".join(part["data"] for part in parts), dtype=np.dtype(parts[0]["dtype"]))
        return joined[lo - base : None if hi is None else hi - base]

    def delete(self, owner: ObjectId, *, attempt: int | None = None, except_attempt: int | None = None) -> None:
        """Drop one attempt's columns, every attempt's but one, or (neither given) all of the owner's."""
        query: dict[str, Any] = {"owner": owner}
        if attempt is not None:
            query["attempt"] = attempt
        elif except_attempt is not None:
            query["attempt"] = {"$ne": except_attempt}
        self._parts.delete_many(query)


class BacktestRepository:
    """Backtest runs: created ``queued`` by the API or CLI, claimed and completed by a worker."""

    # The list leaves out what only a single run's page needs.
    LIST_PROJECTION: ClassVar[dict[str, int]] = {"spec": 0, "equity_chart": 0, "open_trades": 0}

    def __init__(self, db: Database) -> None:
        self._runs = db[BACKTEST_RESULTS]
        self._arrays = PackedArrays(db[BACKTEST_ARRAYS])

    def create(self, fields: Mapping[str, Any]) -> dict:
        """Store a new run in state ``queued``; ``fields`` is the request and its spec snapshot."""
        stamp = now()
        doc = {
            **fields,
            "state": State.QUEUED,
            "progress": {"stage": "queued"},
            "attempts": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
        doc["_id"] = self._runs.insert_one(doc).inserted_id
        return doc

    def get(self, run_id: str | ObjectId, projection: Mapping[str, Any] | None = None) -> dict:
        """The run (only the fields ``projection`` names, if given); ``JobNotFound`` if there is none."""
        doc = self._runs.find_one({"_id": object_id(run_id)}, projection)
        if doc is None:
            raise JobNotFound(str(run_id))
        return doc

    def list(self, page: int = 1, per_page: int = 20, **filters: str | None) -> tuple[list[dict], int]:
        """One page of runs, newest first, filtered by any of ``strategy_id``, ``state``, ``symbol``."""
        query = {name: value for name, value in filters.items() if value is not None}
        return _page(self._runs, query, page, per_page, self.LIST_PROJECTION)

    def claim(self, run_id: str | ObjectId, worker: Mapping[str, Any]) -> dict | None:
        """The run, now ``running`` under a new attempt; ``None`` if it is finished, cancelled or gone.

        A run already running is claimed again (a redelivered task): the
        execution still at it, if any, is left alone, and the first to finish wins.
        """
        return _claim(self._runs, {"_id": object_id(run_id)}, worker, {"progress": {"stage": "claimed"}})

    def advance(self, run_id: ObjectId, attempt: int, progress: Mapping[str, Any]) -> bool:
        """Record progress; ``False`` means stop: the run was cancelled, or finished by another attempt."""
        stamp = now()
        result = self._runs.update_one(
            _if_running(run_id), {"$set": {"progress": dict(progress), "updated_at": stamp, "heartbeat_at": stamp}}
        )
        return result.matched_count == 1

    def heartbeat(self, run_id: ObjectId) -> bool:
        """Stamp ``heartbeat_at`` while an execution runs; ``False`` once the run is no longer running."""
        return _heartbeat(self._runs, run_id)

    def job_status(self, run_id: str | ObjectId) -> dict[str, Any]:
        """The run as a ``job`` event tells it (a run is one chunk); ``JobNotFound`` if it is gone."""
        doc = self._runs.find_one({"_id": object_id(run_id)}, {"state": 1, "error": 1})
        if doc is None:
            raise JobNotFound(str(run_id))
        return _job_status("backtest", doc, int(doc["state"] == State.DONE), 1)

    def complete(
        self, run_id: ObjectId, attempt: int, summary: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> bool:
        """Store the arrays, then flip to ``done`` with ``summary`` in one update conditional on still running.

        The first attempt to get here wins: it deletes every other attempt's
        arrays (a crashed execution's, a slower one's already written).
        ``False``, and this attempt's arrays deleted again, when the run was
        cancelled or another attempt finished first.
        """
        self._arrays.write(run_id, attempt, arrays)
        stamp = now()
        flipped = (
            self._runs.update_one(
                _if_running(run_id),
                {
                    "$set": {
                        **summary,
                        "state": State.DONE,
                        "arrays_attempt": attempt,
                        "progress": {"stage": "done"},
                        "finished_at": stamp,
                        "updated_at": stamp,
                    }
                },
            ).matched_count
            == 1
        )
        if flipped:
            self._arrays.delete(run_id, except_attempt=attempt)
        else:
            self._arrays.delete(run_id, attempt=attempt)
        return flipped

    def discard_stale_arrays(self, run_id: str | ObjectId) -> None:
        """Delete arrays no reader will follow: all of a run that is not done, all but the winner's of a done one.

        For a redelivered task that finds its run finished: should a losing
        execution have died between writing its arrays and deleting them, this
        removes them.
        """
        doc = self._runs.find_one({"_id": object_id(run_id)}, {"state": 1, "arrays_attempt": 1})
        if doc is None or (doc["state"] == State.DONE and "arrays_attempt" in doc):
            if doc is not None:
                self._arrays.delete(doc["_id"], except_attempt=doc["arrays_attempt"])
        elif doc["state"] not in ACTIVE:
            self._arrays.delete(doc["_id"])

    def fail(self, run_id: ObjectId, attempt: int, reason: str) -> bool:
        """Flip to ``failed`` with a reason a user can act on, unless cancelled or finished by another attempt."""
        return self._runs.update_one(_if_running(run_id), _failed(reason)).matched_count == 1

    def fail_unsent(self, run_id: ObjectId, reason: str) -> None:
        """A run whose task never reached the broker would wait forever, so it fails at once."""
        self._runs.update_one({"_id": run_id, "state": State.QUEUED}, _failed(reason))

    def cancel(self, run_id: str | ObjectId) -> dict:
        """Cancel a queued or running run (a cancelled one stays so); ``WrongState`` if it finished."""
        oid = object_id(run_id)
        stamp = now()
        doc = self._runs.find_one_and_update(
            {"_id": oid, "state": {"$in": list(ACTIVE)}},
            {
                "$set": {
                    "state": State.CANCELLED,
                    "progress": {"stage": "cancelled"},
                    "finished_at": stamp,
                    "updated_at": stamp,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            self._arrays.delete(oid)  # whatever an execution stored before it notices
            return doc
        doc = self.get(oid)
        if doc["state"] != State.CANCELLED:
            raise WrongState(f"the backtest is already {doc['state']}", doc["state"])
        return doc

    def delete(self, run_id: str | ObjectId) -> dict | None:
        """Cancel a queued or running run and return it, or remove a finished one with its arrays (``None``).

        ``JobNotFound`` if there is no such run. A run cannot come back from a final state, so
        the removal cannot race with an execution: a redelivered task finds nothing to claim, and
        one still finishing finds nothing to flip and deletes the arrays it wrote.
        """
        oid = object_id(run_id)
        if self._runs.find_one_and_delete({"_id": oid, "state": {"$nin": list(ACTIVE)}}, {"_id": 1}) is None:
            return self.cancel(oid)  # JobNotFound when there is none
        self._arrays.delete(oid)
        return None

    def curves(self, doc: Mapping[str, Any], lo: int = 0, hi: int | None = None) -> dict[str, np.ndarray]:
        """Bars ``lo`` up to ``hi`` of a done run's per-bar curves (``CURVE_COLUMNS``), those it has."""
        read = self._arrays.read
        columns = {name: read(doc["_id"], doc["arrays_attempt"], name, lo, hi) for name in CURVE_COLUMNS}
        return {name: values for name, values in columns.items() if len(values) or name in EQUITY_COLUMNS}

    def trades(self, doc: Mapping[str, Any], offset: int, limit: int) -> TradeLog:
        """Closed trades ``offset .. offset + limit - 1`` of a done run (``doc["n_trades"]`` in all)."""
        read = self._arrays.read
        return TradeLog(
            **{
                name: read(doc["_id"], doc["arrays_attempt"], f"trades.{name}", offset, offset + limit)
                for name in TRADE_COLUMNS
            }
        )


def _job_status(kind: str, doc: Mapping[str, Any], chunks_done: int, chunks_total: int) -> dict[str, Any]:
    status = {"kind": kind, "id": str(doc["_id"]), "state": str(doc["state"])}
    status.update(chunks_done=chunks_done, chunks_total=chunks_total)
    if doc.get("error"):
        status["error"] = doc["error"]
    return status


def _failed(reason: str) -> dict[str, Any]:
    """The update that fails a run or a sweep; a run's ``progress`` keeps the stage it failed in."""
    stamp = now()
    return {"$set": {"state": State.FAILED, "error": reason, "finished_at": stamp, "updated_at": stamp}}


def _skipped_totals(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A chunk's skipped entries: parameter sets that skipped any, and entries by reason over all of them."""
    by_reason: dict[str, int] = {}
    combos = 0
    for result in results:
        skipped = result.get("skipped") or {}
        combos += bool(skipped)
        for reason, count in skipped.items():
            by_reason[reason] = by_reason.get(reason, 0) + count
    return {"combos": combos, "by_reason": by_reason}


def trade_columns(trades: TradeLog) -> dict[str, np.ndarray]:
    """A trade log as the named columns ``BacktestRepository.complete`` stores."""
    return {f"trades.{name}": getattr(trades, name) for name in TRADE_COLUMNS}


class SweepRepository:
    """Sweeps, their chunks and their ranked results."""

    LIST_PROJECTION: ClassVar[dict[str, int]] = {"spec": 0}

    def __init__(self, db: Database) -> None:
        self._sweeps = db[SWEEPS]
        self._chunks = db[SWEEP_CHUNKS]
        self._results = db[SWEEP_RESULTS]

    def create(
        self, fields: Mapping[str, Any], chunks: Sequence[Sequence[Mapping[str, float]]]
    ) -> tuple[dict, list[ObjectId]]:
        """Store a sweep in state ``queued`` with one pending chunk per list of parameter sets.

        The chunks go in first: a sweep that exists always has all of them.
        """
        sweep_id = ObjectId()
        stamp = now()
        chunk_docs, first = [], 0
        for index, param_sets in enumerate(chunks):
            chunk_docs.append(
                {
                    "sweep_id": sweep_id,
                    "index": index,
                    "first_combo": first,
                    "size": len(param_sets),
                    "params": [dict(params) for params in param_sets],
                    "state": State.QUEUED,
                    "attempts": 0,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            first += len(param_sets)
        chunk_ids = self._chunks.insert_many(chunk_docs).inserted_ids
        doc = {
            "_id": sweep_id,
            **fields,
            "combos": first,
            "chunks_total": len(chunk_docs),
            "state": State.QUEUED,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._sweeps.insert_one(doc)
        return doc, list(chunk_ids)

    def get(self, sweep_id: str | ObjectId) -> dict:
        doc = self._sweeps.find_one({"_id": object_id(sweep_id)})
        if doc is None:
            raise JobNotFound(str(sweep_id))
        return doc

    def list(self, page: int = 1, per_page: int = 20, **filters: str | None) -> tuple[list[dict], int]:
        query = {name: value for name, value in filters.items() if value is not None}
        return _page(self._sweeps, query, page, per_page, self.LIST_PROJECTION)

    def progress(self, sweep_id: ObjectId) -> dict[str, int]:
        """Chunks per state and parameter sets done, counted from the chunks themselves."""
        counts = {f"chunks_{state}": 0 for state in (State.QUEUED, State.RUNNING, State.DONE, State.FAILED)}
        counts["combos_done"] = 0
        for row in self._chunks.aggregate(
            [
                {"$match": {"sweep_id": sweep_id}},
                {"$group": {"_id": "$state", "chunks": {"$sum": 1}, "combos": {"$sum": "$size"}}},
            ]
        ):
            counts[f"chunks_{row['_id']}"] = row["chunks"]
            if row["_id"] == State.DONE:
                counts["combos_done"] = row["combos"]
        return counts

    def skipped(self, sweep_id: ObjectId) -> dict[str, Any]:
        """Entries the finished parameter sets skipped: how many sets skipped any (``combos``), and how
        many entries for each reason (``by_reason``), summed over the done chunks' totals."""
        totals = {"combos": {"$sum": "$skipped.combos"}}
        totals.update({reason.value: {"$sum": f"$skipped.by_reason.{reason.value}"} for reason in SkipReason})
        rows = list(
            self._chunks.aggregate(
                [{"$match": {"sweep_id": sweep_id, "state": State.DONE}}, {"$group": {"_id": None, **totals}}]
            )
        )
        row = rows[0] if rows else {}
        by_reason = {reason.value: row[reason.value] for reason in SkipReason if row.get(reason.value)}
        return {"combos": row.get("combos", 0), "by_reason": by_reason}

    def job_status(self, sweep_id: str | ObjectId) -> dict[str, Any]:
        """The sweep as a ``job`` event tells it: its state and chunks done; ``JobNotFound`` if it is gone."""
        doc = self._sweeps.find_one({"_id": object_id(sweep_id)}, {"state": 1, "error": 1, "chunks_total": 1})
        if doc is None:
            raise JobNotFound(str(sweep_id))
        done = self._chunks.count_documents({"sweep_id": doc["_id"], "state": State.DONE})
        return _job_status("sweep", doc, done, doc["chunks_total"])

    def ranking(self, sweep_id: ObjectId, offset: int = 0, limit: int = 1) -> tuple[list[dict], int]:
        """Results best first (parameter sets without a score last), and how many there are so far."""
        query = {"sweep_id": sweep_id}
        total = self._results.count_documents(query)
        cursor = (
            self._results.find(query, {"_id": 0, "sweep_id": 0})
            .sort([("score", DESCENDING), ("combo", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return list(cursor), total

    def chunk_ids(self, sweep_id: ObjectId, unfinished_only: bool = False) -> list[ObjectId]:
        query: dict[str, Any] = {"sweep_id": sweep_id}
        if unfinished_only:
            query["state"] = {"$ne": State.DONE}
        return [doc["_id"] for doc in self._chunks.find(query, {"_id": 1}).sort("index", ASCENDING)]

    def chunks(self, sweep_id: ObjectId) -> list[dict]:
        """Every chunk's bookkeeping (not its parameter sets), in order."""
        return list(self._chunks.find({"sweep_id": sweep_id}, {"params": 0}).sort("index", ASCENDING))

    def sweep_of(self, chunk_id: str | ObjectId) -> ObjectId | None:
        chunk = self._chunks.find_one({"_id": object_id(chunk_id)}, {"sweep_id": 1})
        return chunk["sweep_id"] if chunk is not None else None

    def claim_chunk(self, chunk_id: str | ObjectId, worker: Mapping[str, Any]) -> tuple[dict, dict] | None:
        """The chunk (now ``running`` under a new attempt) and its sweep, or ``None`` if there is nothing to do.

        A chunk already running (its execution alive or dead) is claimed again:
        both run, the first to finish wins. Nothing to do: the chunk is done or gone, or its sweep is no longer
        queued or running (cancelled, failed, finished).
        """
        sweep_id = self.sweep_of(chunk_id)
        if sweep_id is None:
            return None
        stamp = now()
        sweep = self._sweeps.find_one_and_update(
            {"_id": sweep_id, "state": {"$in": list(ACTIVE)}},
            {"$set": {"state": State.RUNNING, "updated_at": stamp}, "$min": {"started_at": stamp}},
            return_document=ReturnDocument.AFTER,
        )
        if sweep is None:
            return None
        claimed = _claim(self._chunks, {"_id": object_id(chunk_id)}, worker, {})
        return (claimed, sweep) if claimed is not None else None

    def chunk_running(self, chunk: Mapping[str, Any]) -> bool:
        """Whether an execution of ``chunk`` should go on: the chunk still runs and its sweep is still active.

        Also stamps the chunk's ``heartbeat_at``. ``False`` means stop: another
        attempt finished the chunk, or the sweep was cancelled or failed.
        """
        if not _heartbeat(self._chunks, chunk["_id"]):
            return False
        return self._sweeps.count_documents({"_id": chunk["sweep_id"], "state": {"$in": list(ACTIVE)}}, limit=1) == 1

    def heartbeat_chunk(self, chunk: Mapping[str, Any]) -> bool:
        """Stamp the chunk's ``heartbeat_at`` while an execution runs; ``False`` once it no longer runs."""
        return _heartbeat(self._chunks, chunk["_id"])

    def complete_chunk(
        self,
        chunk: Mapping[str, Any],
        results: Iterable[Mapping[str, Any]],
        timings: Mapping[str, float],
        worker: Mapping[str, Any] | None = None,
    ) -> bool:
        """Store a chunk's results (keyed by parameter set, so writing them again changes nothing), then flip it.

        The flip is conditional on the chunk still running, whichever attempt
        claimed it last: the first execution to finish wins, and records its
        attempt (``done_attempt``) and worker. ``False`` when another attempt
        finished first (it wrote the same results) or the sweep is no longer
        active (nothing is written then).
        """
        if self._sweeps.count_documents({"_id": chunk["sweep_id"], "state": {"$in": list(ACTIVE)}}, limit=1) == 0:
            return False
        results = list(results)
        writes = [
            ReplaceOne(
                {"sweep_id": chunk["sweep_id"], "combo": result["combo"]},
                {"sweep_id": chunk["sweep_id"], **result},
                upsert=True,
            )
            for result in results
        ]
        if writes:
            self._results.bulk_write(writes, ordered=False)
        stamp = now()
        done = {
            "state": State.DONE,
            "skipped": _skipped_totals(results),
            "timings": dict(timings),
            "done_attempt": chunk["attempts"],
            "finished_at": stamp,
            "updated_at": stamp,
        }
        if worker is not None:
            done["worker"] = dict(worker)
        return self._chunks.update_one(_if_running(chunk["_id"]), {"$set": done}).matched_count == 1

    def fail_chunk(self, chunk: Mapping[str, Any], reason: str) -> None:
        """Mark the chunk failed, and its sweep with it (``resume`` runs failed chunks again)."""
        self._chunks.update_one(
            _if_running(chunk["_id"]), {"$set": {"state": State.FAILED, "error": reason, "updated_at": now()}}
        )
        self.fail(chunk["sweep_id"], f"chunk {chunk['index']}: {reason}")

    def fail(self, sweep_id: ObjectId, reason: str) -> None:
        """Stop a queued or running sweep with a reason; chunks not yet claimed will not start."""
        self._sweeps.update_one({"_id": sweep_id, "state": {"$in": list(ACTIVE)}}, _failed(reason))

    def finish_if_complete(self, sweep_id: ObjectId) -> bool:
        """Flip a running sweep to ``done`` once every chunk is; idempotent, so any chunk may try."""
        if self._chunks.count_documents({"sweep_id": sweep_id, "state": {"$ne": State.DONE}}, limit=1):
            return False
        stamp = now()
        return (
            self._sweeps.update_one(
                {"_id": sweep_id, "state": State.RUNNING},
                {"$set": {"state": State.DONE, "finished_at": stamp, "updated_at": stamp}},
            ).matched_count
            == 1
        )

    def cancel(self, sweep_id: str | ObjectId) -> dict:
        """Cancel a queued or running sweep; chunks not yet claimed will not start. ``WrongState`` if finished."""
        oid = object_id(sweep_id)
        stamp = now()
        doc = self._sweeps.find_one_and_update(
            {"_id": oid, "state": {"$in": list(ACTIVE)}},
            {"$set": {"state": State.CANCELLED, "finished_at": stamp, "updated_at": stamp}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return doc
        doc = self.get(oid)
        if doc["state"] != State.CANCELLED:
            raise WrongState(f"the sweep is already {doc['state']}", doc["state"])
        return doc

    def delete(self, sweep_id: str | ObjectId) -> dict | None:
        """Cancel a queued or running sweep and return it, or remove a finished one with its chunks and results
        (``None``). ``JobNotFound`` if there is no such sweep.

        The sweep goes first: a chunk still finishing checks that its sweep is active before it
        writes results, and finds none.
        """
        oid = object_id(sweep_id)
        if self._sweeps.find_one_and_delete({"_id": oid, "state": {"$nin": list(ACTIVE)}}, {"_id": 1}) is None:
            return self.cancel(oid)  # JobNotFound when there is none
        self._chunks.delete_many({"sweep_id": oid})
        self._results.delete_many({"sweep_id": oid})
        return None

    def results(self, sweep_id: ObjectId, fields: Sequence[str]) -> list[dict]:
        """Every result of a sweep so far, in combo order, with only ``fields`` (dotted: ``stats.sharpe``)."""
        cursor = self._results.find({"sweep_id": sweep_id}, {"_id": 0, **dict.fromkeys(fields, 1)})
        return list(cursor.sort("combo", ASCENDING))

    def reopen(self, sweep_id: str | ObjectId) -> tuple[dict, list[ObjectId]]:
        """Make a sweep runnable again and return the chunks to send: every chunk not done.

        Failed chunks go back to pending and a failed sweep to running.
        ``WrongState`` for a done or cancelled sweep.
        """
        oid = object_id(sweep_id)
        stamp = now()
        doc = self._sweeps.find_one_and_update(
            {"_id": oid, "state": {"$in": [*ACTIVE, State.FAILED]}},
            {"$set": {"state": State.RUNNING, "updated_at": stamp}, "$unset": {"error": "", "finished_at": ""}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            state = self.get(oid)["state"]
            raise WrongState(f"the sweep is {state}: there is nothing to resume", state)
        self._chunks.update_many(
            {"sweep_id": oid, "state": State.FAILED},
            {"$set": {"state": State.QUEUED, "updated_at": stamp}, "$unset": {"error": ""}},
        )
        return doc, self.chunk_ids(oid, unfinished_only=True)
