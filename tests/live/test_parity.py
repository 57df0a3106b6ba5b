"""Live paper trading equals the backtester, trade for trade.

Thousands of candles go through the whole pipeline -- tick batches sent by name to the
ingest queue, a real worker subprocess, Redis, the paper broker, MongoDB -- in lockstep,
and ``trade_logs`` must hold exactly the trades ``run_backtest`` finds on the same
candles: times, sides, sizes and prices, for an SMA cross and an RSI strategy with a
stop loss that fires.
"""

from __future__ import annotations

import pytest

from strategies.spec import validate_spec
from tests.live.conftest import (
    SYMBOL,
    TIMEFRAME,
    create_strategy,
    send_ingest,
    spec_doc,
    wait_for,
)
from tests.live.replay import archived_trades, backtest_trades, replay
from tickflow.synthetic import generate_candles

BARS = 2_500


@pytest.fixture
def strategies(db, redis, engine):
    docs = [spec_doc("sma_cross"), spec_doc("rsi_mean_reversion", params={"stop": 0.01})]
    ids = [create_strategy(db, redis, doc) for doc in docs]
    for strategy_id in ids:
        engine.start(strategy_id, "paper", 10_000)
    return list(zip(ids, docs))


def test_replay_through_workers_matches_backtest(live_worker, strategies, db, redis, engine):
    candles = generate_candles(BARS, TIMEFRAME, seed=11)
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles)
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")
    reasons = set()
    for strategy_id, doc in strategies:
        expected = backtest_trades(validate_spec(doc), candles)
        assert len(expected) > 5
        assert archived_trades(db, strategy_id) == expected, doc["name"]
        reasons |= {trade[-1] for trade in expected}
    assert {"signal", "stop_loss"} <= reasons
    assert db.trade_logs.count_documents({"status": "open"}) <= 2
