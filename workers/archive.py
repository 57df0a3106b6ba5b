"""Trade records and the Redis outbox that makes archiving them to MongoDB lossless.

A trade's records are written to the outbox (``keys.trade_outbox()``) in the same Lua
commit that moves its position, so a record exists exactly when the position change
does. ``Outbox.flush`` then copies outbox records to ``trade_logs`` and deletes only
what MongoDB acknowledged; when MongoDB is unreachable they simply stay, and the
``drain_outbox`` beat task retries until it is back. Writes are idempotent upserts by
trade id and revision (``TradeLogRepository``), so two flushers racing, or a flush
repeated after a crash, store each record once. A field rewritten while its old value
was being stored keeps its new value: the delete is a compare-and-delete.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pymongo
import redis
from pymongo.errors import PyMongoError

from strategies import position as machine
from strategies.domain import Side, return_fraction
from tickflow.storage.active import LiveEntry
from tickflow.storage.positions import Position, trade_id
from workers.orders import client_order_id
from workers.positions import exit_reason

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 2.0
"""How long a flush waits for MongoDB before leaving records to the outbox drain."""
DRAIN_CHUNK = 500
AWAY_S = 5.0
"""After MongoDB failed a flush, how long flushes leave their records to the drain (beat's, every 5 s)."""

DELETE_UNCHANGED = """
local deleted = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return deleted
"""
"""HDEL each field of the hash KEYS[1] whose value is still the one read: ARGV is field, value, field, value..."""


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def opened_record(position: Position, timeframe: str, entry: LiveEntry, order_id: str) -> dict:
    """The record of the trade ``position`` has just opened (rev 0), in the run of ``entry``."""
    state = position.state
    return {
        "trade_id": position.trade_id,
        "rev": 0,
        "status": "open",
        "strategy_id": position.strategy_id,
        "symbol": position.symbol,
        "timeframe": timeframe,
        "mode": entry.mode,
        "run": entry.since,
        "side": Side(position.side).label,
        "size": float(state[machine.SIZE]),
        "entry_time": int(state[machine.ENTRY_BAR]),
        "entry_price": float(state[machine.ENTRY_PRICE]),
        "entry_commission": float(state[machine.ENTRY_COMMISSION]),
        "stop": finite_or_none(state[machine.STOP]),
        "target": finite_or_none(state[machine.TARGET]),
        "trail_offset": float(state[machine.TRAIL_OFFSET]),
        "trail_anchor": float(state[machine.TRAIL_ANCHOR]),
        "entry_order_id": order_id,
    }


def closed_record(
    strategy_id: str, symbol: str, timeframe: str, entry: LiveEntry, row: np.ndarray, order_id: str
) -> dict:
    """The record of a closed trade from its ``strategies.position`` row (rev 1), in the run of ``entry``."""
    side, size = int(row[machine.T_SIDE]), float(row[machine.T_SIZE])
    entry_price, exit_price = float(row[machine.T_ENTRY_PRICE]), float(row[machine.T_EXIT_PRICE])
    commission = float(row[machine.T_COMMISSION])
    entry_bar = int(row[machine.T_ENTRY_BAR])
    return {
        "trade_id": trade_id(strategy_id, symbol, entry_bar),
        "rev": 1,
        "status": "closed",
        "strategy_id": strategy_id,
        "symbol": symbol,
        "timeframe": timeframe,
        "mode": entry.mode,
        "run": entry.since,
        "side": Side(side).label,
        "size": size,
        "entry_time": entry_bar,
        "entry_price": entry_price,
        "exit_time": int(row[machine.T_EXIT_BAR]),
        "exit_price": exit_price,
        "exit_reason": exit_reason(row).value,
        "pnl": float(row[machine.T_PNL]),
        "commission": commission,
        "return_pct": float(return_fraction(side, size, entry_price, exit_price, commission) * 100),
        "entry_order_id": client_order_id(strategy_id, symbol, entry_bar, "open"),
        "exit_order_id": order_id,
    }


def outbox_entry(record: dict) -> tuple[str, str]:
    """(outbox field, JSON) of a record: one field per trade and revision."""
    return f"{record['trade_id']}:{record['rev']}", json.dumps(record)


class Outbox:
    """A Redis hash of JSON records on their way to MongoDB: ``write`` stores a list of records idempotently.

    The trade archive (``keys.trade_outbox()``, ``TradeLogRepository.upsert``) and the equity
    history (``keys.equity_outbox()``) are outboxes.
    """

    def __init__(self, client: redis.Redis, key: str, write: Callable[[list[dict]], object], what: str) -> None:
        self.redis = client
        self.key = key
        self.write = write
        self.what = what
        self._away_until = 0.0
        self._delete_unchanged = client.register_script(DELETE_UNCHANGED)

    def flush(self, fields: Sequence[str], retry: bool = False) -> int:
        """Copy these outbox records to MongoDB and drop them from the outbox; 0 if MongoDB is away.

        After a failed write, flushes leave their records to the drain for ``AWAY_S`` unless
        ``retry``: during an outage each close would otherwise wait ``FLUSH_TIMEOUT_S`` for it.
        """
        if not fields or (not retry and time.monotonic() < self._away_until):
            return 0
        raw = self.redis.hmget(self.key, list(fields))
        present = [(name, value) for name, value in zip(fields, raw) if value is not None]
        if not present:
            return 0
        try:
            with pymongo.timeout(FLUSH_TIMEOUT_S):
                self.write([json.loads(value) for _, value in present])
        except PyMongoError as error:
            log.warning("%s unreachable, %d record(s) left in the outbox: %s", self.what, len(present), error)
            self._away_until = time.monotonic() + AWAY_S
            return 0
        self._delete_unchanged(keys=[self.key], args=[item for pair in present for item in pair])
        return len(present)

    def drain(self) -> int:
        """Flush the whole outbox, a chunk at a time; stops at the first chunk MongoDB refuses."""
        moved = 0
        cursor = 0
        while True:
            cursor, chunk = self.redis.hscan(self.key, cursor, count=DRAIN_CHUNK)
            if chunk:
                done = self.flush(list(chunk), retry=True)
                if not done:
                    return moved
                moved += done
            if cursor == 0:
                return moved

    def put(self, records: Mapping[str, str]) -> None:
        """Add records (outbox field -> JSON) for a later ``flush``."""
        self.redis.hset(self.key, mapping=dict(records))

    def pending(self) -> int:
        return self.redis.hlen(self.key)
