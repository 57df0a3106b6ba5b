"""The order ledger: every live order on a venue, each state it went through, and every fill by the venue's trade id.

Records come from the live engine through a Redis outbox (``keys.order_outbox()``, ``workers.archive.Outbox``):
``sent`` when an order is claimed, just before it goes out, then what became of it (``unknown``,
``pending``, or a final state). A worker killed between sending and booking leaves the ``sent``
record behind, which is what the venue reconciliation (``workers.reconcile``) looks up.

Writes are idempotent and never go back: a record sets the order's state only if it ranks at least
as high as the stored one (a ``sent`` drained from the outbox after the ``filled`` does not), and
each state change is kept once in ``history``, whenever it arrives (``find`` lists it in time order).
Fills are keyed by venue, symbol and trade id, so an order adopted twice, or booked and then adopted,
stores each fill once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from tickflow.storage.schema import ORDER_FILLS, ORDERS
from tickflow.storage.trade_logs import DUPLICATE_KEY

STATES = ("sent", "unknown", "resent", "pending", "filled", "partial", "rejected", "not_sent")
"""``resent``: sent again, the venue having never booked it long after the first send (``workers.venue_orders``)."""
FINAL_STATES = frozenset({"filled", "partial", "rejected", "not_sent"})
_RANK = {"sent": 0, "unknown": 1, "resent": 2, "pending": 2, **dict.fromkeys(FINAL_STATES, 3)}


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def fill_key(venue: str, symbol: str, trade_id: int) -> str:
    return f"{venue}:{symbol}:{trade_id}"


class OrderLedger:
    def __init__(self, db: Database) -> None:
        self.orders = db[ORDERS]
        self.fills = db[ORDER_FILLS]

    def record(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Store each record: its state, unless its order is already in a later one, and its history and fills.

        A record: ``client_order_id``, ``venue``, ``strategy_id``, ``symbol``, ``side``, ``size``, ``price``,
        ``ts``, ``reason`` (the order as the engine decided it), ``state``, ``at`` (ms), ``detail``, and for
        what the venue reported ``outcome`` (dict) and ``fills`` (``trade_id``, ``price``, ``quantity``,
        ``fee``, ``fee_asset``); ``adopted`` when the reconciliation found it.
        """
        by_order: dict[str, list[Mapping[str, Any]]] = {}
        for record in records:
            by_order.setdefault(record["client_order_id"], []).append(record)
        orders, fills = [], []
        for client_order_id, steps in by_order.items():
            steps.sort(key=lambda step: (_RANK[step["state"]], step["at"]))
            first, record = steps[0], steps[-1]  # one update per order: a batch's states in order, the last wins
            state = record["state"]
            fields = {
                key: first[key] for key in ("venue", "strategy_id", "symbol", "side", "size", "price", "ts", "reason")
            }
            changed = {"state": state, "rank": _RANK[state], "updated_at": _moment(record["at"])}
            if record.get("outcome") is not None:
                changed["outcome"] = record["outcome"]
            if any(step.get("adopted") for step in steps):
                changed["adopted"] = True
            history = [
                {"state": step["state"], "at": _moment(step["at"]), "detail": step.get("detail", "")} for step in steps
            ]
            # A final state is never replaced, not even by another final one (a record drained late).
            newer = {"$lt": _RANK[state]} if state in FINAL_STATES else {"$lte": _RANK[state]}
            orders.append(
                UpdateOne(
                    {"_id": client_order_id, "rank": newer},
                    {
                        "$set": changed,
                        "$setOnInsert": {**fields, "candle_at": _moment(first["ts"])},
                        "$addToSet": {"history": {"$each": history}},
                    },
                    upsert=True,
                )
            )
            # A state that arrives after a later one (an outbox drained late) still joins the history.
            orders.append(UpdateOne({"_id": client_order_id}, {"$addToSet": {"history": {"$each": history}}}))
            for fill in record.get("fills", ()):
                fills.append(
                    UpdateOne(
                        {"_id": fill_key(record["venue"], record["symbol"], fill["trade_id"])},
                        {
                            "$setOnInsert": {
                                **fill,
                                "client_order_id": record["client_order_id"],
                                "strategy_id": record["strategy_id"],
                                "symbol": record["symbol"],
                                "side": record["side"],
                                "at": _moment(record["at"]),
                            }
                        },
                        upsert=True,
                    )
                )
        _apply(self.fills, fills)
        _apply(self.orders, orders)

    def unsettled(self, venue: str) -> list[dict]:
        """The venue's orders not in a final state: sent (maybe) and never booked, or still open."""
        return list(self.orders.find({"venue": venue, "state": {"$nin": sorted(FINAL_STATES)}}))

    def executed_unchecked(self, venue: str) -> list[dict]:
        """The venue's orders that executed something and whose booking the reconciliation has not checked."""
        query = {"venue": venue, "state": {"$in": ["filled", "partial"]}, "outcome.executed": {"$gt": 0}}
        return list(self.orders.find({**query, "checked_at": {"$exists": False}}))

    def mark_checked(self, client_order_ids: list[str]) -> None:
        if client_order_ids:
            self.orders.update_many({"_id": {"$in": client_order_ids}}, {"$set": {"checked_at": datetime.now(UTC)}})

    def recent_symbols(self, venue: str, since_s: float) -> set[str]:
        """The symbols of the venue's orders recorded at or after ``since_s`` (epoch seconds)."""
        since = datetime.fromtimestamp(since_s, UTC)
        return set(self.orders.distinct("symbol", {"venue": venue, "updated_at": {"$gte": since}}))

    def states(self, client_order_ids: Iterable[str]) -> dict[str, str]:
        """Client order id -> its state, for the ids the ledger has."""
        ids = list(client_order_ids)
        return {doc["_id"]: doc["state"] for doc in self.orders.find({"_id": {"$in": ids}}, {"state": 1})}

    def find(
        self, strategy_id: str | None = None, symbol: str | None = None, page: int = 1, per_page: int = 50
    ) -> tuple[list[dict], int]:
        """Orders matching the filters, newest candle first, each with its fills, and the total."""
        query: dict[str, Any] = {}
        if strategy_id:
            query["strategy_id"] = strategy_id
        if symbol:
            query["symbol"] = symbol
        total = self.orders.count_documents(query)
        docs = list(
            self.orders.find(query)
            .sort([("candle_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        by_order: dict[str, list[dict]] = {}
        for fill in self.fills.find({"client_order_id": {"$in": [doc["_id"] for doc in docs]}}).sort(
            "trade_id", ASCENDING
        ):
            by_order.setdefault(fill["client_order_id"], []).append(fill)
        for doc in docs:
            doc["fills"] = by_order.get(doc["_id"], [])
            doc["history"].sort(key=lambda step: (step["at"], _RANK[step["state"]]))
        return docs, total


def _apply(collection: Any, operations: list[UpdateOne]) -> None:
    """Run the upserts unordered. A duplicate key is an upsert that raced another's insert of the same order, or a
    record that lost to a later state: each is tried once more, now that the document exists, and one that fails
    again lost, and is dropped."""
    for attempt in range(2):
        if not operations:
            return
        try:
            collection.bulk_write(operations, ordered=False)
            return
        except BulkWriteError as error:
            failed = error.details["writeErrors"]
            if any(e["code"] != DUPLICATE_KEY for e in failed):
                raise
            operations = [operations[e["index"]] for e in failed] if attempt == 0 else []
