"""The pipeline survives a worker SIGKILLed mid-chain and a MongoDB outage without losing or doubling anything.

Crash: a worker whose ``execute`` sleeps (``tests.workers.slow_execute_app``) is killed,
main process and pool, while the close that opens a trade is between ``evaluate`` and
``execute``; a fresh worker picks the redelivered message up. The order is placed once,
the trade archived once, and the whole replay still equals the backtest.

Outage: the worker archives to a MongoDB of its own that is stopped while trades close;
their records wait in the Redis outbox, and once MongoDB is back the beat's
``drain_outbox`` moves every one into ``trade_logs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymongo import MongoClient

from cli.localservices import LocalMongo, free_port, port_open
from tests.conftest import ROOT
from tests.workers.conftest import (
    SYMBOL,
    TIMEFRAME,
    send_ingest,
    trading_sma_cross,
    wait_for,
)
from tests.workers.replay import archived_trades, candle_ticks, replay
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.schema import ensure_schema
from workers.engine import LiveEngine
from workers.orders import client_order_id
from workers.progress import wait_candle_processed
from workers.ticks import encode_batch

BARS = 400


def _order_events(redis, client_order_id: str) -> int:
    return sum(
        1
        for _, fields in redis.xrange(keys.live_events())
        if fields["type"] == "order" and json.loads(fields["data"])["client_order_id"] == client_order_id
    )


def test_worker_killed_mid_chain_places_the_order_once(start_worker, db, redis, engine):
    strategy_id, candles, expected = trading_sma_cross(engine, BARS)
    entry = list(candles.ts).index(expected[1][0])  # the candle at whose open the second trade enters

    worker = start_worker()
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, stop=entry)
    worker.kill()

    slow = start_worker(app_module="tests.workers.slow_execute_app")
    signal = keys.signal(strategy_id, SYMBOL, int(candles.ts[entry - 1]))
    send_ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, entry)))
    wait_for(lambda: redis.exists(signal), 20, "the entry signal")
    assert json.loads(redis.get(signal))["pending"]
    slow.kill()  # execute is asleep, its message unacknowledged

    start_worker()
    assert wait_candle_processed(redis, SYMBOL, TIMEFRAME, int(candles.ts[entry - 1]), 60)
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, start=entry + 1)
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")

    order_id = client_order_id(strategy_id, SYMBOL, int(candles.ts[entry]), "open")
    assert _order_events(redis, order_id) == 1
    assert redis.hexists(keys.paper_fills(), order_id)
    assert db.trade_logs.count_documents({"entry_order_id": order_id}) == 1
    assert archived_trades(db, strategy_id) == expected


@pytest.fixture
def own_mongo(tmp_path: Path):
    """A MongoDB only this test uses, so it can be stopped."""
    port = free_port()
    server = LocalMongo(port, ROOT / f"var/test/live-outage-mongo-{port}", cache_gb=0.25)
    server.start()  # never a server found on the port: the test must be able to stop it
    yield server
    server.stop()


def test_trades_closed_during_a_mongodb_outage_reach_trade_logs(start_worker, own_mongo, redis):
    uri = f"mongodb://127.0.0.1:{own_mongo.port}/tickflow_outage?directConnection=true"
    client = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000)
    db = client.get_default_database()
    ensure_schema(db)
    engine = LiveEngine(redis, db, LiveSettings())
    strategy_id, candles, expected = trading_sma_cross(engine, BARS)
    half = len(candles) // 2

    start_worker(env={"MONGO_URI": uri}, beat=True)
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, stop=half)
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")
    before = db.trade_logs.count_documents({"status": "closed"})

    own_mongo.stop()
    assert not port_open(own_mongo.port)
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, start=half, timeout_s=60)
    assert engine.archive.pending() > 0  # records wait in Redis

    own_mongo.start()
    wait_for(lambda: engine.archive.pending() == 0, 30, "drain_outbox to empty the outbox")
    assert before < len(expected)
    assert archived_trades(db, strategy_id) == expected
