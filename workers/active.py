"""The active set: which strategies trade live, on which symbols and timeframes.

Redis holds it for the engine (``keys.live_active``: id -> settings; one subscriber set
per symbol and timeframe, read at every candle close; the working-set lengths ingest
keeps per symbol). MongoDB holds the truth, a ``live`` sub-document on the strategy
(``{"active", "mode", "cash", "started_at", "stopped_at"}``, and ``stopped_by`` when a loss limit
stopped it), so that ``recovery`` can rebuild the Redis side after Redis comes back empty.
Starting a strategy also warms its working sets from stored history (``warmup``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import redis
from bson import ObjectId
from pymongo.database import Database

from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.active import LiveEntry, active_entries, active_entry
from tickflow.storage.candles import CandleStore
from tickflow.storage.schema import STRATEGIES
from tickflow.storage.scripts import lua_script
from workers.ingest import DASHBOARD_TIMEFRAME
from workers.runner import LiveStrategy
from workers.warmup import Warmed, waiting_mark, warm_up

REBUILD_TIMEFRAMES = lua_script("workers", "rebuild_timeframes")


class ActiveSet:
    def __init__(self, client: redis.Redis, db: Database, settings: LiveSettings) -> None:
        self.redis = client
        self.strategies = db[STRATEGIES]
        self.history = CandleStore(db)
        self.settings = settings
        self.min_bars = settings.min_bars
        self._rebuild_timeframes = client.register_script(REBUILD_TIMEFRAMES)

    def entry_for(self, strategy: LiveStrategy, mode: str, cash: float, since: int) -> LiveEntry:
        spec = strategy.spec
        bars = self.settings.working_set_bars(spec.warmup_bars)
        return LiveEntry(mode, cash, list(spec.symbols), spec.timeframe, bars, since)

    def start(self, strategy: LiveStrategy, mode: str, cash: float, since: int) -> LiveEntry:
        """Record the strategy as live in MongoDB (the truth), then in Redis, and warm its working sets.

        ``since``: when its run started (epoch ms), now for a new run, the earlier start for a resumed one.
        """
        entry = self.entry_for(strategy, mode, cash, since)
        started_at = datetime.fromtimestamp(since / 1000, UTC)
        self.strategies.update_one(
            {"_id": ObjectId(strategy.id)},
            {"$set": {"live": {"active": True, "mode": mode, "cash": cash, "started_at": started_at}}},
        )
        self.register(strategy.id, entry)
        if self.warm_up(strategy.id, entry).waiting:
            # Built live state (an epoch) is marked waiting, so ingest warms these sets after their first
            # tick; without an epoch the rebuild that comes first does it.
            self.redis.set(keys.live_epoch(), waiting_mark(), xx=True)
        return entry

    def warm_up(self, strategy_id: str, entry: LiveEntry, symbols: Sequence[str] | None = None) -> Warmed:
        """Fill the strategy's working sets (of ``symbols``, default all of its own) from ``historical_candles``
        (after ``register``, which sets their caps), so it can decide at the next close. Best effort; see
        ``warmup``."""
        return warm_up(
            self.redis,
            self.history,
            entry.symbols if symbols is None else symbols,
            entry.timeframe,
            entry.bars,
            strategy_id,
        )

    def stop(self, strategy_id: str, stopped_by: Mapping[str, Any] | None = None) -> LiveEntry | None:
        """Take the strategy out of the active set (MongoDB first); its entry, None if it was not live.

        ``stopped_by``: the loss limit that stopped it, kept as ``live.stopped_by`` and in
        ``keys.limit_stops()`` until it starts again.
        """
        entry = self.get(strategy_id)
        stopped: dict[str, Any] = {"live.active": False, "live.stopped_at": datetime.now(UTC)}
        if stopped_by is not None:
            stopped["live.stopped_by"] = dict(stopped_by)
        self.strategies.update_one({"_id": ObjectId(strategy_id)}, {"$set": stopped})
        if stopped_by is not None:
            self.redis.hset(keys.limit_stops(), strategy_id, json.dumps(dict(stopped_by)))
        if entry is None:
            return None
        pipe = self.redis.pipeline()
        pipe.hdel(keys.live_active(), strategy_id)
        for symbol in entry.symbols:
            pipe.srem(keys.live_subscribers(symbol, entry.timeframe), strategy_id)
        pipe.execute()
        self._rebuild_timeframes(
            keys=[keys.live_active(), keys.live_timeframes()], args=[self.min_bars, DASHBOARD_TIMEFRAME]
        )
        return entry

    def register(self, strategy_id: str, entry: LiveEntry) -> None:
        """Put an active strategy into Redis (at start, and when rebuilding after Redis was emptied)."""
        pipe = self.redis.pipeline()
        pipe.hset(keys.live_active(), strategy_id, entry.to_json())
        pipe.hdel(keys.limit_stops(), strategy_id)  # a new run: the limit that stopped the last one is history
        pipe.hdel(keys.entry_pauses(), strategy_id)  # and so is a pause of its entries
        pipe.hdel(keys.balance_rejections(), strategy_id)
        pipe.hdel(keys.awaiting_venue(), *(f"{strategy_id}:{symbol}" for symbol in entry.symbols))
        for symbol in entry.symbols:
            pipe.sadd(keys.live_subscribers(symbol, entry.timeframe), strategy_id)
        pipe.execute()
        self._rebuild_timeframes(
            keys=[keys.live_active(), keys.live_timeframes()], args=[self.min_bars, DASHBOARD_TIMEFRAME]
        )

    def get(self, strategy_id: str) -> LiveEntry | None:
        return active_entry(self.redis, strategy_id)

    def entries(self, strategy_ids: Iterable[str]) -> dict[str, LiveEntry]:
        return active_entries(self.redis, strategy_ids)

    def all(self) -> dict[str, LiveEntry]:
        return active_entries(self.redis)

    def stored_live(self) -> list[dict]:
        """Strategies MongoDB marks active: ``{"_id", "live"}`` documents."""
        return list(self.strategies.find({"live.active": True}, {"live": 1}))

    def last_run(self, strategy_id: str) -> dict | None:
        """The strategy's latest run as MongoDB keeps it (``{"active", "mode", "cash", "started_at", ...}``)."""
        doc = self.strategies.find_one({"_id": ObjectId(strategy_id)}, {"live": 1})
        return None if doc is None else doc.get("live")
