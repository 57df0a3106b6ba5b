"""Live paper trading equals the backtester, trade for trade.

Two thousand candles go through the whole pipeline as in production -- stored in MongoDB
(``CandleStore``), read back and replayed by the real replay feed (``ReplayFeed``) in
``Lockstep`` with the pipeline, published in batches by ``BatchPublisher`` through
``celery_sink`` to the ingest queue, then a real worker subprocess, Redis, the paper
broker and MongoDB -- and ``trade_logs`` must hold exactly the trades ``run_backtest``
finds on the same candles: times, sides, sizes and prices, for an SMA cross, the same cross
sized in fractions on a quantity step of 0.001 (with a minimum notional), and an RSI strategy
with a stop loss that fires.
"""

from __future__ import annotations

import asyncio

import pytest

from strategies.spec import validate_spec
from tasks.celery_app import app as celery_app
from tasks.feed import celery_sink
from tests.workers.conftest import (
    SYMBOL,
    TIMEFRAME,
    create_strategy,
    spec_doc,
    wait_for,
)
from tests.workers.replay import archived_trades, backtest_trades
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles
from workers.feeds import (
    BatchPublisher,
    Lockstep,
    ReplayFeed,
    run_feed,
)
from workers.feeds.replay import TICKS_PER_CANDLE

BARS = 2_000


@pytest.fixture
def strategies(db, redis, engine):
    docs = [
        spec_doc("sma_cross"),
        spec_doc("sma_cross", "SMA cross, fractional", sizing={"step": {SYMBOL: 0.001}, "min_notional": 10}),
        spec_doc("rsi_mean_reversion", params={"stop": 0.01}),
    ]
    ids = [create_strategy(db, redis, doc) for doc in docs]
    for strategy_id in ids:
        engine.start(strategy_id, "paper", 10_000)
    return list(zip(ids, docs))


def replay_from_mongodb(db, redis) -> int:
    """What ``tickflow feed --source replay --lockstep`` does: stored candles -> ticks -> Celery; ticks sent."""
    candles = {SYMBOL: CandleStore(db).load(SYMBOL, TIMEFRAME)}

    async def run() -> int:
        async with BatchPublisher(celery_sink(celery_app)) as publisher:
            feed = ReplayFeed(candles, TIMEFRAME, speed=0, checkpoint=Lockstep(publisher, redis, TIMEFRAME, 30))
            stats = await run_feed(feed, publisher)
        return stats.ticks_sent

    return asyncio.run(run())


def test_replay_through_workers_matches_backtest(live_worker, strategies, db, redis, engine):
    candles = generate_candles(BARS, TIMEFRAME, seed=5)  # 58 SMA-cross trades, 14 RSI ones, stops among them
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, candles)
    assert replay_from_mongodb(db, redis) == TICKS_PER_CANDLE * BARS
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")
    assert redis.hget(keys.late_ticks(), SYMBOL) is None, "no tick may be late in lockstep"
    reasons = set()
    for strategy_id, doc in strategies:
        expected = backtest_trades(validate_spec(doc), candles)
        assert len(expected) >= 10, doc["name"]
        assert archived_trades(db, strategy_id) == expected, doc["name"]
        reasons |= {trade[-1] for trade in expected}
    assert {"signal", "stop_loss"} <= reasons
    fractional = backtest_trades(validate_spec(strategies[1][1]), candles)
    assert all(size != int(size) and round(size, 3) == size for *_, size, _, _, _ in fractional)
    assert db.trade_logs.count_documents({"status": "open"}) <= 3
