"""Rebuilding live state after Redis comes back empty.

Everything the engine keeps in Redis is either rebuilt here from MongoDB or refills
itself: strategy configs come back through StrategyRepository's cache; the active set
from the strategies' ``live`` sub-documents; each active strategy's accounts from
``trade_logs`` -- the balance is the starting cash plus the PnL of its closed trades
(net of commissions), and an open trade becomes the open position again, with the stop,
target and trailing settings it was opened with. ``keys.live_epoch()`` marks state as
built; workers check it at start-up and before each tick batch, and one of them (holding
a short lock) rebuilds.

What cannot come back: the working sets of closed candles (indicators warm up again from
the ticks that follow), a trailing stop's progress since entry (it restarts from the
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
from tickflow.live.active import ActiveSet
from tickflow.live.broker import PaperBroker, broker_for
from tickflow.live.engine import LiveEngine
from tickflow.live.positions import Commit, Position
from tickflow.storage import keys
from tickflow.storage.strategies import NotFound

log = logging.getLogger(__name__)

LOCK_S = 60


def ensure_live_state(engine: LiveEngine) -> bool:
    """Rebuild live state if Redis lost it; True if this call rebuilt it."""
    client = engine.redis
    if client.exists(keys.live_epoch()):
        return False
    if not client.set(keys.live_rebuild_lock(), "1", nx=True, ex=LOCK_S):
        _wait_for_epoch(client)
        return False
    try:
        rebuild(engine)
        client.set(keys.live_epoch(), datetime.now(UTC).isoformat())
    finally:
        client.delete(keys.live_rebuild_lock())
    return True


def rebuild(engine: LiveEngine) -> None:
    """Put back the active set and every active strategy's accounts; existing positions are kept."""
    active: ActiveSet = engine.active
    restored = 0
    for doc in active.stored_live():
        strategy_id, live = str(doc["_id"]), doc["live"]
        try:
            strategy = engine.catalog.get(strategy_id)
        except NotFound:
            continue
        cash = float(live.get("cash", 0)) or 10_000.0
        entry = active.entry_for(strategy, live.get("mode", "paper"), cash)
        active.register(strategy_id, entry)
        realised = engine.trade_logs.realised(strategy_id)
        open_trades = {trade["symbol"]: trade for trade in engine.trade_logs.open_trades(strategy_id)}
        commits = [Commit(_account(strategy_id, symbol, cash + realised.get(symbol, 0.0), open_trades.get(symbol)),
                          strategy.has_stops)
                   for symbol in entry.symbols]
        stored = engine.book.commit_many(commits)  # version 0: only where no position exists
        restored += sum(stored)
        broker = broker_for(entry.mode, engine.redis)
        if isinstance(broker, PaperBroker):
            broker.adopt({(strategy_id, commit.position.symbol): commit.position.side
                          * float(commit.position.state[machine.SIZE])
                          for commit, done in zip(commits, stored) if done and commit.position.side})
    log.info("live state rebuilt from MongoDB: %d account(s) restored", restored)


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
