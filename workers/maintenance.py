"""Periodic upkeep of live state, free of Celery: what beat's ``tasks.maintenance.*`` tasks call.

* ``reconcile_positions`` compares every active account's position with the net position
  its broker reports, and *reports* differences (a warning line, a ``mismatch`` event on
  the live stream, ``keys.reconcile_status()``). It never changes a position: which side
  is right -- a fill the engine never recorded, or a position the broker never took -- is
  a trader's call, and "fixing" either one silently could double a trade or hide a bug.
* ``refresh_strategy_cache`` rewrites the strategy cache from MongoDB, the truth, and
  tombstones entries of strategies MongoDB no longer has.
* ``check_liveness`` reports symbols that go stale (no tick for two periods of their shortest
  live timeframe, ``tickflow.storage.liveness``) and come back: a warning line and a ``stale``
  event on the live stream, once per change.
* ``prune_live_keys`` deletes live keys past their use: the keys of symbols nobody trades
  or feeds any more, the candles of timeframes no strategy uses, dashboard values of
  stopped strategies, flat accounts of deleted strategies, and the paper broker's fills
  once their orders' claims have expired.

Each is safe alongside the live pipeline and alongside itself (a duplicate delivery, two
beats): reconcile only reads what it judges; the refresh writes through the cache's
compare-and-set on ``version``; every prune decision is re-checked inside the Lua script
that deletes, atomically with the deletion, so a tick, a start or a commit landing after
the candidates were listed keeps its keys. docs/operations.md, "Periodic work (beat)",
has the schedule; docs/redis-keys.md the rules per key.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import redis
from bson import ObjectId
from pymongo.database import Database

from strategies import position as machine
from strategies.candles import TIMEFRAME_MS
from tickflow.settings import env_number
from tickflow.storage import keys
from tickflow.storage.events import publish
from tickflow.storage.liveness import stale_problem, symbol_freshness
from tickflow.storage.positions import Position
from tickflow.storage.schema import STRATEGIES
from tickflow.storage.scripts import lua_script
from tickflow.storage.strategies import Strategy, StrategyRepository
from workers.broker import PaperBroker
from workers.engine import LiveEngine
from workers.ingest import DASHBOARD_TIMEFRAME, working_sets

log = logging.getLogger(__name__)

SCAN_COUNT = 1000
"""Keys Redis looks at per SCAN call: each call stays short while a pass covers the whole keyspace."""

# -- reconciling positions against the broker -------------------------------------------------

CONFIRM_S = 45.0
"""How long a difference must last before it is reported. Two differences heal by themselves: an
order in flight (its fill is stored before its position commits, milliseconds apart) and a worker
killed between the two (its ``execute`` comes back after the visibility timeout and a restore
sweep, ~31 s: docs/architecture.md). With reconciliation every minute, a lasting difference is
reported by the second run that sees it."""
SIZE_TOLERANCE = 1e-9
"""Relative and absolute: the paper broker sums fills in Redis's long doubles, the engine keeps one float."""


@dataclass(frozen=True)
class Mismatch:
    strategy_id: str
    symbol: str
    mode: str
    engine_size: float
    """Signed size of the engine's position: > 0 long, < 0 short, 0 flat."""
    broker_size: float
    since: int
    """When a reconciliation first saw this account differ (epoch ms)."""
    confirmed: bool
    """It has lasted ``CONFIRM_S``: reported, not just noted."""


@dataclass(frozen=True)
class Reconciliation:
    at: int
    accounts: int
    differences: list[Mismatch]

    @property
    def mismatches(self) -> list[Mismatch]:
        return [m for m in self.differences if m.confirmed]

    def summary(self) -> dict[str, int]:
        return {
            "accounts": self.accounts,
            "mismatches": len(self.mismatches),
            "pending": len(self.differences) - len(self.mismatches),
        }


def reconcile_positions(engine: LiveEngine, confirm_s: float = CONFIRM_S) -> Reconciliation:
    """Compare each active strategy's position per symbol with its broker's; record and report what differs.

    Reads Redis only (positions, and the paper broker's book), so it runs while MongoDB is down.
    A difference is remembered in ``keys.reconcile_status()`` with the time it was first seen,
    and reported -- a warning line and a ``mismatch`` event, at every run while it lasts -- once
    it has lasted ``confirm_s``. Positions of stopped strategies are not checked: nothing moves
    them, and they are checked again once their strategy is restarted. Nor are accounts trading on a
    venue: its balance of an asset is one figure for every account trading it (docs/exchanges.md).
    """
    client = engine.redis
    now = int(time.time() * 1000)
    wanted = [
        (sid, symbol, entry)
        for sid, entry in engine.active.all().items()
        if entry.mode == "paper"
        for symbol in entry.symbols
    ]
    positions = engine.book.load_many([(sid, symbol, entry.cash) for sid, symbol, entry in wanted])
    held = PaperBroker(client).positions([(sid, symbol) for sid, symbol, _ in wanted])
    first_seen = {
        (m["strategy_id"], m["symbol"]): m["since"]
        for m in json.loads(client.hget(keys.reconcile_status(), "details") or "[]")
    }
    differences = []
    for (sid, symbol, entry), position, broker_size in zip(wanted, positions, held):
        engine_size = position.side * float(position.state[machine.SIZE])
        if not math.isclose(engine_size, broker_size, rel_tol=SIZE_TOLERANCE, abs_tol=SIZE_TOLERANCE):
            since = first_seen.get((sid, symbol), now)
            differences.append(
                Mismatch(sid, symbol, entry.mode, engine_size, broker_size, since, now - since >= confirm_s * 1000)
            )
    result = Reconciliation(now, len(wanted), differences)
    _record(engine, result)
    return result


def _record(engine: LiveEngine, result: Reconciliation) -> None:
    """The status hash and the events of confirmed mismatches, in one transaction; then the log lines."""
    pipe = engine.redis.pipeline()
    pipe.hset(
        keys.reconcile_status(),
        mapping={"at": result.at, **result.summary(), "details": json.dumps([asdict(m) for m in result.differences])},
    )
    pipe.hincrby(keys.reconcile_status(), "runs", 1)
    for mismatch in result.mismatches:
        publish(pipe, "mismatch", asdict(mismatch), engine.settings.events_length)
    pipe.execute()
    for m in result.differences:
        fields = (
            f"strategy_id={m.strategy_id} symbol={m.symbol} mode={m.mode} engine_size={m.engine_size!r} "
            f"broker_size={m.broker_size!r} since={m.since}"
        )
        if m.confirmed:
            log.warning("reconcile: position mismatch %s", fields)
        else:
            log.info("reconcile: position differs (reported if it lasts): %s", fields)


# -- refreshing the strategy cache --------------------------------------------------------------


@dataclass(frozen=True)
class CacheRefresh:
    written: int
    """Entries rewritten from MongoDB."""
    newer: int
    """Strategies whose cache already held a newer version: a write landed during the refresh."""
    retired: int
    """Entries of strategies MongoDB no longer has, tombstoned."""


def refresh_strategy_cache(db: Database, client: redis.Redis) -> CacheRefresh:
    """Rewrite every strategy's cache entry from MongoDB and tombstone entries of strategies gone from it.

    Each write is the repository's compare-and-set on ``version``: a create, edit or delete that
    lands between this read and this write has a higher version, so it keeps its entry whichever
    reaches Redis first. Cached ids are checked against MongoDB *after* the cache was listed, and
    MongoDB is written before the cache, so a strategy created meanwhile is never taken for gone.
    """
    repository = StrategyRepository(db, client)
    collection = db[STRATEGIES]
    outcomes = [repository.recache(Strategy.from_document(doc)) for doc in collection.find()]
    cached = repository.cached_versions()
    stored = _existing(db, cached)
    retired = sum(repository.retire(sid, version) for sid, version in cached.items() if sid not in stored)
    result = CacheRefresh(sum(outcomes), len(outcomes) - sum(outcomes), retired)
    log.info("refresh_strategy_cache: %s", asdict(result))
    return result


# -- pruning live keys ----------------------------------------------------------------------------

IDLE_DAYS = 7.0
IDLE_ENV = "TICKFLOW_LIVE_PRUNE_IDLE_DAYS"

# Each script checks again, inside Redis, the rule that picked its keys (workers/lua/prune_*.lua).
PRUNE_SYMBOL = lua_script("workers", "prune_symbol")
PRUNE_TIMEFRAME = lua_script("workers", "prune_timeframe")
PRUNE_FIELDS = lua_script("workers", "prune_fields")
PRUNE_ACCOUNT = lua_script("workers", "prune_account")
PRUNE_FILLS = lua_script("workers", "prune_fills")
FILLS_PER_CALL = 200
"""Fills one ``PRUNE_FILLS`` call judges: each call is short, so ingest never waits long behind it."""


@dataclass(frozen=True)
class Pruned:
    symbols: list[str]
    """Symbols whose keys were all deleted."""
    timeframes: list[str]
    """``"symbol timeframe"`` pairs whose candles, progress mark and indicator values were deleted."""
    fields: int
    """Dashboard values (latest signals, indicator values) of stopped strategies dropped."""
    accounts: list[str]
    """``"strategy_id symbol"`` flat accounts of deleted strategies deleted."""
    fills: int = 0
    """The paper broker's fills dropped: their order claims had expired."""

    def summary(self) -> dict[str, int]:
        return {
            "symbols": len(self.symbols),
            "timeframes": len(self.timeframes),
            "fields": self.fields,
            "accounts": len(self.accounts),
            "fills": self.fills,
        }


def check_liveness(client: redis.Redis) -> list[str]:
    """Publish a ``stale`` event for each symbol that went stale or recovered since the last check; return the
    stale symbols. ``keys.stale_symbols()`` remembers the last verdict, so each change is reported once."""
    rows = symbol_freshness(client)
    stale = {row.symbol for row in rows if row.stale}
    known = client.smembers(keys.stale_symbols())
    pipe = client.pipeline(transaction=True)
    for row in rows:
        if row.stale != (row.symbol in known):
            publish(pipe, "stale", asdict(row))
            if row.stale:
                log.warning(stale_problem(row), extra={"symbol": row.symbol})
            else:
                log.info("%s ticks again", row.symbol, extra={"symbol": row.symbol})
    pipe.delete(keys.stale_symbols())
    if stale:
        pipe.sadd(keys.stale_symbols(), *sorted(stale))
    pipe.execute()
    return sorted(stale)


def prune_idle_s() -> float:
    """The idle age after which unused keys go: ``TICKFLOW_LIVE_PRUNE_IDLE_DAYS`` (default 7 days)."""
    return env_number(os.environ, IDLE_ENV, IDLE_DAYS, float) * 86_400


def prune_live_keys(engine: LiveEngine, db: Database, idle_s: float) -> Pruned:
    """Delete live keys past their use (the rules are in docs/redis-keys.md, "Pruning").

    * a symbol no active strategy trades, with no open position on it, and nothing ingested for
      ``idle_s``: all its keys (last tick, candles of every timeframe, price path, progress marks,
      indicator values, late-tick count);
    * a timeframe ingest no longer keeps for a symbol, whose forming candle's last tick is older
      than ``idle_s``: its candles, progress mark and indicator values;
    * a stopped strategy's latest signal and indicator values, once older than ``idle_s``;
    * a flat account (position hash) of a strategy MongoDB no longer has, if it is not active;
    * a fill of the paper broker whose order claim has expired and whose time is older than the
      longest claim's lifetime (``LiveSettings.fill_retention_s``): only a claimed order can be sent again.

    Never touched: the active set, open positions, positions of existing strategies (their
    balance carries over when restarted), the outbox, the paper broker's net positions, the stop
    set, and keys that expire or are capped by themselves (signals, order claims, streams, the cache).
    """
    client = engine.redis
    idle_ms = int(idle_s * 1000)
    kept = working_sets(client)
    symbols = sorted(key.rsplit(":", 1)[1] for key in client.scan_iter(match=keys.last_tick("*"), count=SCAN_COUNT))
    accounts = sorted(
        tuple(key.rsplit(":", 2)[1:]) for key in client.scan_iter(match=keys.position("*", "*"), count=SCAN_COUNT)
    )
    positions = engine.book.load_many([(sid, symbol, 0.0) for sid, symbol in accounts])
    holding = {position.symbol for position in positions if position.side}

    idle = _idle_symbols(client, [s for s in symbols if s not in kept and s not in holding], idle_ms)
    present = _timeframes(client, sorted(set(symbols) - set(idle)))
    unused = _unused_timeframes(
        client,
        [(symbol, tf) for symbol, tf in present if tf != DASHBOARD_TIMEFRAME and tf not in kept.get(symbol, {})],
        idle_ms,
    )
    dashboards = [
        keys.last_signals(),
        *(keys.indicator_values(symbol, tf) for symbol, tf in present if (symbol, tf) not in unused),
    ]
    fields = sum(_run(client, PRUNE_FIELDS, [([keys.live_active(), key], [idle_ms]) for key in dashboards]))
    active = engine.active.all()
    orphans = _orphan_accounts(client, db, [p for p in positions if not p.side and p.strategy_id not in active])
    fills = _expired_fills(client, engine.settings.fill_retention_s * 1000)
    result = Pruned(
        idle,
        [f"{symbol} {tf}" for symbol, tf in unused],
        fields,
        [f"{p.strategy_id} {p.symbol}" for p in orphans],
        fills,
    )
    log.info("prune_live_keys: %s", result.summary())
    return result


def _idle_symbols(client: redis.Redis, candidates: list[str], idle_ms: int) -> list[str]:
    """Rule 1 over symbols nobody trades or holds: the ones ``PRUNE_SYMBOL`` found idle, and deleted."""
    done = _run(
        client,
        PRUNE_SYMBOL,
        [
            (
                [
                    keys.live_timeframes(),
                    keys.late_ticks(),
                    keys.price_path(symbol),
                    keys.last_tick(symbol),
                    *(key for tf in TIMEFRAME_MS for key in _timeframe_keys(symbol, tf)),
                ],
                [idle_ms, symbol],
            )
            for symbol in candidates
        ],
    )
    return [symbol for symbol, pruned in zip(candidates, done) if pruned]


def _timeframes(client: redis.Redis, symbols: list[str]) -> list[tuple[str, str]]:
    """The (symbol, timeframe) pairs that have a forming candle."""
    pairs = [(symbol, tf) for symbol in symbols for tf in TIMEFRAME_MS]
    pipe = client.pipeline(transaction=False)
    for symbol, tf in pairs:
        pipe.exists(keys.current_candle(symbol, tf))
    return [pair for pair, exists in zip(pairs, pipe.execute()) if exists]


def _unused_timeframes(client: redis.Redis, candidates: list[tuple[str, str]], idle_ms: int) -> list[tuple[str, str]]:
    """Rule 2 over pairs ingest no longer keeps: the ones ``PRUNE_TIMEFRAME`` found idle, and deleted."""
    done = _run(
        client,
        PRUNE_TIMEFRAME,
        [([keys.live_timeframes(), *_timeframe_keys(symbol, tf)], [idle_ms, symbol, tf]) for symbol, tf in candidates],
    )
    return [pair for pair, pruned in zip(candidates, done) if pruned]


def _orphan_accounts(client: redis.Redis, db: Database, flat: list[Position]) -> list[Position]:
    """Rule 4 over flat positions of strategies not active: those MongoDB has no strategy for, deleted."""
    stored = _existing(db, [p.strategy_id for p in flat])
    orphans = [p for p in flat if p.strategy_id not in stored]
    done = _run(
        client,
        PRUNE_ACCOUNT,
        [([keys.live_active(), keys.position(p.strategy_id, p.symbol)], [p.strategy_id, p.version]) for p in orphans],
    )
    return [p for p, pruned in zip(orphans, done) if pruned]


def _expired_fills(client: redis.Redis, retention_ms: int) -> int:
    """Rule 5 over the paper broker's fills: the ones older than ``retention_ms`` (by this clock: the
    script checks again by Redis's) that ``PRUNE_FILLS`` found unclaimed, and dropped.

    A fill is what makes sending its order again harmless (``PaperBroker`` answers a known id with
    its first fill), and an order is sent again only by a task that finds its claim. New fills are
    stored after their claims, so a fill stored while prune runs is never judged unclaimed.
    """
    cutoff = int(time.time() * 1000) - retention_ms
    old = [
        order_id
        for order_id, raw in client.hscan_iter(keys.paper_fills(), count=SCAN_COUNT)
        if json.loads(raw)["ts"] < cutoff
    ]
    chunks = [old[i : i + FILLS_PER_CALL] for i in range(0, len(old), FILLS_PER_CALL)]
    return sum(
        _run(
            client,
            PRUNE_FILLS,
            [([keys.paper_fills(), *map(keys.order_claim, chunk)], [retention_ms, *chunk]) for chunk in chunks],
        )
    )


def _existing(db: Database, strategy_ids: Iterable[str]) -> set[str]:
    """Which of these ids MongoDB has a strategy for (an id that is no ObjectId has none)."""
    ids = [ObjectId(sid) for sid in set(strategy_ids) if ObjectId.is_valid(sid)]
    if not ids:
        return set()  # and no need for MongoDB to be up
    return {str(doc["_id"]) for doc in db[STRATEGIES].find({"_id": {"$in": ids}}, {"_id": 1})}


def _timeframe_keys(symbol: str, timeframe: str) -> list[str]:
    """The keys of one symbol and timeframe, its forming candle first (``PRUNE_TIMEFRAME`` reads it)."""
    return [
        keys.current_candle(symbol, timeframe),
        keys.closed_candles(symbol, timeframe),
        keys.candle_processed(symbol, timeframe),
        keys.indicator_values(symbol, timeframe),
    ]


def _run(client: redis.Redis, script: str, calls: list[tuple[list[str], list]]) -> list[int]:
    """``script`` once per (keys, args), all in one pipelined round trip; each call's reply."""
    if not calls:
        return []
    runner = client.register_script(script)
    pipe = client.pipeline(transaction=False)
    for call_keys, args in calls:
        runner(keys=call_keys, args=args, client=pipe)
    return [int(reply) for reply in pipe.execute()]
