"""Rebuilding live state after Redis comes back empty.

Everything the engine keeps in Redis is either rebuilt here from MongoDB or refills
itself: a trading halt comes back from its MongoDB copy (``tickflow.storage.halt``); strategy
configs come back through StrategyRepository's cache; the active set
from the strategies' ``live`` sub-documents; each active strategy's accounts from
``trade_logs`` -- the balance is the starting cash plus the PnL of its closed trades
(net of commissions), and an open trade becomes the open position again, with the stop,
target and trailing settings it was opened with. ``keys.live_epoch()`` marks state as
built; workers check it at start-up and before each tick batch, and one of them (holding
a short lock) rebuilds.

The working sets of closed candles are warmed again from ``historical_candles``
(``warmup``) once the feed has ticked on their symbol -- Redis came back empty, so the
epoch holds a waiting mark and ``ensure_live_state`` warms them before the following batches;
the candles the feed had closed since the last stored one are gone unless MongoDB has them.
What cannot come back: a trailing stop's progress since entry (it restarts from the
anchor at entry), and trade records still in the outbox when Redis lost them.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import numpy as np
import redis

from strategies import position as machine
from strategies.domain import Side
from tickflow.storage import halt, keys
from tickflow.storage.positions import Position
from tickflow.storage.strategies import StrategyNotFound
from workers import warmup
from workers.active import ActiveSet
from workers.broker import PaperBroker
from workers.engine import LiveEngine
from workers.positions import Commit

log = logging.getLogger(__name__)

LOCK_S = 60


def ensure_live_state(engine: LiveEngine) -> bool:
    """Rebuild live state if Redis lost it; True if this call rebuilt it.

    While working sets wait for their symbol's first tick (the epoch holds a waiting mark), warm
    those whose symbol has ticked since; run before every tick batch, so that is right after it.
    """
    client = engine.redis
    epoch = client.get(keys.live_epoch())
    if epoch is not None:
        if warmup.is_waiting(epoch):
            warm_waiting(engine, epoch)
        return False
    if not client.set(keys.live_rebuild_lock(), "1", nx=True, ex=LOCK_S):
        _wait_for_epoch(client)
        return False
    try:
        waiting = rebuild(engine)
        client.set(keys.live_epoch(), warmup.waiting_mark() if waiting else _built())
    finally:
        client.delete(keys.live_rebuild_lock())
    return True


_handled: dict[str, set[tuple[str, str]]] = {}
"""Per waiting mark, the (strategy id, symbol) working sets this process warmed already: each tick batch
runs ``warm_waiting``, and only sets still waiting need another look (not another history query)."""


def warm_waiting(engine: LiveEngine, epoch: str) -> None:
    """Warm the active strategies' working sets that can be now; live state is built once none waits
    any more (or the wait is over: those left fill from the feed)."""
    active: ActiveSet = engine.active
    if epoch not in _handled:
        _handled.clear()  # an older mark's sets are settled
    handled = _handled.setdefault(epoch, set())
    waiting = []
    for strategy_id, entry in active.all().items():
        symbols = [symbol for symbol in entry.symbols if (strategy_id, symbol) not in handled]
        if symbols:
            warmed = active.warm_up(strategy_id, entry, symbols)
            handled.update((strategy_id, symbol) for symbol in warmed.added)
            waiting += warmed.waiting
    if waiting and not warmup.wait_over(epoch):
        return
    if waiting:
        log.warning(
            "warm-up: no tick for %s in %d s; their working sets fill from the feed",
            ", ".join(sorted(set(waiting))),
            warmup.WAIT_S,
        )
    warmup.end_waiting(engine.redis, epoch, _built())


def rebuild(engine: LiveEngine) -> bool:
    """Put back the active set, every active strategy's accounts and its working sets; existing positions
    are kept. True if some working set waits for its symbol's first tick to be warmed."""
    active: ActiveSet = engine.active
    halt.restore(engine.redis, engine.db)  # first: entries stay blocked while the rest comes back
    restored = 0
    registered = []
    for doc in active.stored_live():
        strategy_id, live = str(doc["_id"]), doc["live"]
        try:
            strategy = engine.catalog.get(strategy_id)
        except StrategyNotFound:
            continue
        cash = float(live.get("cash", 0)) or 10_000.0
        started = live.get("started_at")
        since = int(started.replace(tzinfo=UTC).timestamp() * 1000) if started else 0
        entry = active.entry_for(strategy, live.get("mode", "paper"), cash, since)
        active.register(strategy_id, entry)
        registered.append((strategy_id, entry))
        realised = engine.trade_logs.realised(strategy_id, run=since)
        open_trades = {trade["symbol"]: trade for trade in engine.trade_logs.open_trades(strategy_id)}
        commits = [
            Commit(
                _account(strategy_id, symbol, cash + realised.get(symbol, 0.0), open_trades.get(symbol)),
                strategy.has_stops,
            )
            for symbol in entry.symbols
        ]
        stored = engine.book.commit_many(commits)  # version 0: only where no position exists
        restored += sum(stored)
        if entry.mode == "paper":
            PaperBroker(engine.redis).adopt(
                {
                    (strategy_id, commit.position.symbol): commit.position.side
                    * float(commit.position.state[machine.SIZE])
                    for commit, done in zip(commits, stored)
                    if done and commit.position.side
                }
            )
    # After every registration, so a set shared by several strategies fills once, to the largest cap.
    waiting = [symbol for strategy_id, entry in registered for symbol in active.warm_up(strategy_id, entry).waiting]
    log.info("live state rebuilt from MongoDB: %d account(s) restored", restored)
    return bool(waiting)


def _built() -> str:
    """The epoch's value once live state is built: when."""
    return datetime.now(UTC).isoformat()


def _account(strategy_id: str, symbol: str, balance: float, trade: dict | None) -> Position:
    state = machine.new_state(balance)
    if trade is not None:
        state[machine.SIDE] = Side.LONG if trade["side"] == "long" else Side.SHORT
        state[machine.SIZE] = trade["size"]
        state[machine.ENTRY_PRICE] = trade["entry_price"]
        state[machine.ENTRY_BAR] = trade["entry_time"]
        state[machine.ENTRY_COMMISSION] = trade["entry_commission"]
        state[machine.BALANCE] -= trade["entry_commission"]
        state[machine.STOP] = np.nan if trade.get("stop") is None else trade["stop"]
        state[machine.TARGET] = np.nan if trade.get("target") is None else trade["target"]
        state[machine.TRAIL_OFFSET] = trade.get("trail_offset", 0.0)
        state[machine.TRAIL_ANCHOR] = trade.get("trail_anchor", trade["entry_price"])
    return Position(strategy_id, symbol, state)


def _wait_for_epoch(client: redis.Redis) -> None:
    deadline = time.monotonic() + LOCK_S
    while not client.exists(keys.live_epoch()) and time.monotonic() < deadline:
        time.sleep(0.05)
