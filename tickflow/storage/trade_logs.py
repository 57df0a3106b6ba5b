"""``trade_logs``: every live trade, written when it opens and updated when it closes.

Records come from the live engine (``workers.archive``), possibly more than once
and out of order (a retried task, an outbox drained while the engine writes directly).
Each record has a ``rev`` -- 0 when the trade opened, 1 when it closed -- and an upsert
only applies if it is newer than what is stored: an ``open`` record that arrives after
the ``closed`` one hits the unique ``trade_id`` index and is dropped, so writes are
idempotent and a trade never goes back to open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from tickflow.storage.schema import TRADE_LOGS

DUPLICATE_KEY = 11000
STATUSES = ("open", "closed")


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


class TradeLogRepository:
    def __init__(self, db: Database) -> None:
        self.collection = db[TRADE_LOGS]

    def upsert(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Store each record unless a newer ``rev`` of its trade is there; return how many were applied."""
        now = datetime.now(UTC)
        operations = []
        for record in records:
            doc = {**record, "opened_at": _moment(record["entry_time"]), "updated_at": now}
            if record.get("exit_time") is not None:
                doc["closed_at"] = _moment(record["exit_time"])
            operations.append(
                UpdateOne({"trade_id": record["trade_id"], "rev": {"$lt": record["rev"]}}, {"$set": doc}, upsert=True)
            )
        if not operations:
            return 0
        try:
            result = self.collection.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            others = [e for e in error.details["writeErrors"] if e["code"] != DUPLICATE_KEY]
            if others:
                raise
            details = error.details
            return details["nUpserted"] + details["nModified"]
        return result.upserted_count + result.modified_count

    def find(
        self,
        strategy_id: str | None = None,
        symbol: str | None = None,
        status: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> tuple[list[dict], int]:
        """Trades opened in ``[start_ms, end_ms)`` matching the filters, newest first, and the total."""
        query: dict[str, Any] = {}
        if strategy_id:
            query["strategy_id"] = strategy_id
        if symbol:
            query["symbol"] = symbol
        if status:
            query["status"] = status
        if start_ms is not None or end_ms is not None:
            query["opened_at"] = {
                **({"$gte": _moment(start_ms)} if start_ms is not None else {}),
                **({"$lt": _moment(end_ms)} if end_ms is not None else {}),
            }
        total = self.collection.count_documents(query)
        cursor = (
            self.collection.find(query, {"_id": 0})
            .sort([("opened_at", DESCENDING), ("trade_id", DESCENDING)])
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        return list(cursor), total

    def overlapping(self, strategy_id: str, symbol: str, start_ms: int | None, end_ms: int | None) -> list[dict]:
        """A strategy's trades on ``symbol`` held at some time in ``[start_ms, end_ms)`` (either bound optional):
        opened before ``end_ms`` and still open or closed at or after ``start_ms``; oldest first."""
        query: dict[str, Any] = {"strategy_id": strategy_id, "symbol": symbol}
        if end_ms is not None:
            query["opened_at"] = {"$lt": _moment(end_ms)}
        if start_ms is not None:
            query["$or"] = [{"status": "open"}, {"closed_at": {"$gte": _moment(start_ms)}}]
        return list(self.collection.find(query, {"_id": 0}).sort([("opened_at", ASCENDING), ("trade_id", ASCENDING)]))

    def books_order(self, strategy_id: str, client_order_id: str) -> bool:
        """Whether a trade of ``strategy_id`` was opened or closed by this order."""
        by = [{"entry_order_id": client_order_id}, {"exit_order_id": client_order_id}]
        query = {"strategy_id": strategy_id, "$or": by}
        return self.collection.find_one(query, {"_id": 1}) is not None

    def open_trades(self, strategy_id: str) -> list[dict]:
        return list(self.collection.find({"strategy_id": strategy_id, "status": "open"}, {"_id": 0}))

    def realised(self, strategy_id: str, run: int) -> dict[str, float]:
        """Symbol -> the sum of the PnL (commissions included) of a strategy's trades closed in its run ``run``
        (``LiveEntry.since``)."""
        rows = self.collection.aggregate([
            {"$match": {"strategy_id": strategy_id, "status": "closed", "run": run}},
            {"$group": {"_id": "$symbol", "pnl": {"$sum": "$pnl"}}},
        ])  # fmt: skip
        return {row["_id"]: row["pnl"] for row in rows}
