"""``candle_downloads``: history downloads from the venue run as background jobs, one document each.

The API stores a download ``queued`` and sends its id (``tasks.backtests.download_candles``); the
worker moves it to ``running``, records its progress in candle slots as pages arrive, and ends it
``done`` with the report or ``failed`` with the reason. A download is resumable by nature
(``tickflow.history``), so a redelivered task simply runs it again.

One series downloads once at a time: a unique partial index on the ``active`` flag of queued and
running downloads refuses a second, unless the first has not moved for ``ABANDONED_S`` (its worker
and its message are gone): that one is failed and the new one takes its place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tickflow.storage.schema import CANDLE_DOWNLOADS

STATES = ("queued", "running", "done", "failed")
ABANDONED_S = 300
"""A queued or running download whose document has not changed for this long is taken over by a new one."""


class DownloadNotFound(LookupError):
    pass


class DownloadRunning(Exception):
    """A download of the same series is queued or running: its document."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        super().__init__(f"{doc['symbol']} {doc['timeframe']} is already downloading (download {doc['_id']})")


def _now() -> datetime:
    return datetime.now(UTC)


def _oid(download_id: str | ObjectId) -> ObjectId:
    try:
        return ObjectId(download_id)
    except (InvalidId, TypeError):
        raise DownloadNotFound(download_id) from None


class DownloadRepository:
    def __init__(self, db: Database) -> None:
        self.collection = db[CANDLE_DOWNLOADS]

    def create(self, exchange: str, symbol: str, timeframe: str, since_ms: int, until_ms: int | None) -> dict:
        """Store a queued download; ``DownloadRunning`` while another of the series is queued or running."""
        now = _now()
        doc = {
            "exchange": exchange,
            "symbol": symbol,
            "timeframe": timeframe,
            "since": since_ms,
            "until": until_ms,
            "state": "queued",
            "active": True,
            "done": 0,
            "total": 0,
            "created_at": now,
            "updated_at": now,
        }
        while True:
            try:
                self.collection.insert_one(doc)
                return doc
            except DuplicateKeyError:
                doc.pop("_id", None)
                running = self.collection.find_one({"symbol": symbol, "timeframe": timeframe, "active": True})
                if running is None:
                    continue  # it ended meanwhile
                if running["updated_at"].replace(tzinfo=UTC) > now - timedelta(seconds=ABANDONED_S):
                    raise DownloadRunning(running) from None
                self.fail(running["_id"], f"abandoned: no progress for {ABANDONED_S} s; a new download took over")

    def get(self, download_id: str | ObjectId) -> dict:
        doc = self.collection.find_one({"_id": _oid(download_id)})
        if doc is None:
            raise DownloadNotFound(download_id)
        return doc

    def latest(self, symbol: str, timeframe: str) -> dict | None:
        return self.collection.find_one({"symbol": symbol, "timeframe": timeframe}, sort=[("created_at", -1)])

    def begin(self, download_id: str) -> dict | None:
        """Mark a queued (or, delivered again, running) download running; None if it has ended."""
        return self.collection.find_one_and_update(
            {"_id": _oid(download_id), "state": {"$in": ["queued", "running"]}},
            {"$set": {"state": "running", "updated_at": _now()}},
            return_document=ReturnDocument.AFTER,
        )

    def progress(self, download_id: ObjectId, done: int, total: int) -> None:
        self.collection.update_one(
            {"_id": download_id, "state": "running"}, {"$set": {"done": done, "total": total, "updated_at": _now()}}
        )

    def finish(self, download_id: ObjectId, report: dict[str, Any]) -> None:
        self.collection.update_one(
            {"_id": download_id, "state": "running"},
            {"$set": {"state": "done", "report": report, "updated_at": _now()}, "$unset": {"active": ""}},
        )

    def fail(self, download_id: ObjectId, error: str) -> None:
        self.collection.update_one(
            {"_id": download_id, "state": {"$in": ["queued", "running"]}},
            {"$set": {"state": "failed", "error": error, "updated_at": _now()}, "$unset": {"active": ""}},
        )

    def job_status(self, download_id: ObjectId) -> dict[str, Any]:
        """The ``job`` event fields of a download: its progress counts candle slots."""
        doc = self.get(download_id)
        status = {
            "kind": "download",
            "id": str(doc["_id"]),
            "state": doc["state"],
            "chunks_done": doc["done"],
            "chunks_total": doc["total"],
        }
        if doc.get("error"):
            status["error"] = doc["error"]
        return status
