"""Risk limits in the live engine (docs/live-engine.md, "Risk limits"), run in the test process against real
Redis and MongoDB: the loss limits stop a strategy where the backtester stops it, and the limits only live
can check block entries with a ``limit`` event."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli
from strategies.backtest import run_backtest
from strategies.spec import RiskLimits, validate_spec
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc, wait_for
from tests.workers.replay import archived_trades, backtest_trades, run_candles
from tests.workers.test_parity import replay_from_mongodb
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine

OTHER = "ETHUSDT"


def limit_events(redis) -> list[dict]:
    return [json.loads(fields["data"]) for _, fields in redis.xrange(keys.live_events()) if fields["type"] == "limit"]


def test_a_daily_loss_limit_stops_the_strategy_after_the_trades_the_backtest_makes(
    engine, db, redis, caplog, client, auth_headers
):
    doc = spec_doc("sma_cross", risk={"limits": {"max_daily_loss": 0.02}})
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(900, TIMEFRAME, seed=5)
    stopped_by = run_backtest(validate_spec(doc), candles).stopped_by
    assert stopped_by is not None and stopped_by.bar < 800  # the scenario trips the limit

    run_candles(engine, candles, 0, len(candles))

    assert archived_trades(db, strategy_id) == backtest_trades(validate_spec(doc), candles)
    assert archived_trades(db, strategy_id)[-1][-1] == "limit"
    (event,) = limit_events(redis)
    assert event == {
        "strategy_id": strategy_id, "symbol": SYMBOL, "timeframe": TIMEFRAME, "t": stopped_by.ts,
        "limit": "max_daily_loss", "action": "stop", "value": stopped_by.loss, "threshold": 0.02,
        "equity": stopped_by.equity, "reference": stopped_by.reference,
    }  # fmt: skip
    assert not redis.hexists(keys.live_active(), strategy_id)
    live = db.strategies.find_one()["live"]
    assert live["active"] is False and live["stopped_by"]["limit"] == "max_daily_loss"
    assert json.loads(redis.hget(keys.limit_stops(), strategy_id))["equity"] == stopped_by.equity
    line = next(record for record in caplog.records if record.getMessage().startswith("stopped by max_daily_loss"))
    assert line.levelname == "WARNING" and line.strategy_id == strategy_id

    (shown,) = client.get("/api/v1/live/limit-stops", headers=auth_headers).json
    assert shown["strategy_id"] == strategy_id and shown["limit"] == "max_daily_loss"
    assert shown["loss"] == pytest.approx(stopped_by.loss) and shown["time"] == stopped_by.ts
    status = client.get("/api/v1/status?timeout=0.1", headers=auth_headers).json
    assert [stop["strategy_id"] for stop in status["live"]["limit_stops"]] == [strategy_id]
    printed = CliRunner().invoke(cli, ["status", "--timeout", "0.1"]).output
    assert f"{strategy_id} stopped by max_daily_loss at " in printed and "(limit 2.00%; start it again" in printed

    engine.start(strategy_id, "paper", 10_000)  # a new run: the flag goes, the account trades again
    assert not redis.hexists(keys.limit_stops(), strategy_id)
    assert "stopped_by" not in db.strategies.find_one()["live"]
    assert client.get("/api/v1/live/limit-stops", headers=auth_headers).json == []


def test_a_replay_through_a_worker_trips_the_daily_loss_limit_where_the_backtester_does(live_worker, engine, db, redis):
    """The live path as in production (``test_parity``): candles stored in MongoDB, replayed in lockstep through
    the feed's sink into a real worker subprocess."""
    doc = spec_doc("sma_cross", "limited live", risk={"limits": {"max_daily_loss": 0.02}})
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(900, TIMEFRAME, seed=5)
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, candles)

    replay_from_mongodb(db, redis)
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")

    expected = run_backtest(validate_spec(doc), candles)
    assert expected.stopped_by is not None
    assert archived_trades(db, strategy_id) == backtest_trades(validate_spec(doc), candles)
    assert [(e["limit"], e["action"], e["t"]) for e in limit_events(redis)] == [
        ("max_daily_loss", "stop", expected.stopped_by.ts)
    ]
    assert not redis.hexists(keys.live_active(), strategy_id)
    assert db.strategies.find_one({"name": "limited live"})["live"]["stopped_by"] == {
        **expected.stopped_by.to_dict(),
        "bar": expected.stopped_by.ts,
        "stopped_at": json.loads(redis.hget(keys.limit_stops(), strategy_id))["stopped_at"],
    }


def test_the_operators_limits_apply_on_top_of_the_specs(db, redis):
    engine = LiveEngine(redis, db, LiveSettings(limits=RiskLimits(max_daily_loss=0.02)))
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", risk={"limits": {"max_daily_loss": 0.5}}))
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(900, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))

    limited = spec_doc("sma_cross", risk={"limits": {"max_daily_loss": 0.02}})
    assert archived_trades(db, strategy_id) == backtest_trades(validate_spec(limited), candles)
    assert [event["threshold"] for event in limit_events(redis)] == [0.02]


def test_an_entry_worth_more_than_max_position_notional_is_a_skipped_event(engine, db, redis):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", risk={"limits": {"max_position_notional": 100}}))
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(300, TIMEFRAME, seed=5), 0, 300)

    skipped = [json.loads(f["data"]) for _, f in redis.xrange(keys.live_events()) if f["type"] == "skipped"]
    assert skipped and {event["reason"] for event in skipped} == {"above_max_notional"}
    assert db.trade_logs.count_documents({"strategy_id": strategy_id}) == 0


def test_an_entry_after_max_orders_per_minute_orders_is_blocked_with_a_limit_event(engine, db, redis, caplog):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", risk={"limits": {"max_orders_per_minute": 3}}))
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(600, TIMEFRAME, seed=5), 0, 600)  # well within a minute of wall time

    # Entry 1, exit 1, entry 2 (3 orders sent), exit 2 (exits are never blocked): the next entry is refused.
    assert db.trade_logs.count_documents({"strategy_id": strategy_id}) == 2
    events = limit_events(redis)
    assert events and {(e["limit"], e["threshold"]) for e in events} == {("max_orders_per_minute", 3)}
    assert (events[0]["value"], events[0]["order"], events[0]["action"]) == (4, "long", "cancelled")
    assert redis.zcard(keys.recent_orders(strategy_id)) == 4
    assert any("long entry blocked by max_orders_per_minute" in record.getMessage() for record in caplog.records)


def test_an_entry_that_would_take_the_strategys_positions_above_max_total_exposure_is_blocked(engine, db, redis):
    doc = spec_doc("sma_cross", symbols=[SYMBOL, OTHER], risk={"limits": {"max_total_exposure": 15_000}})
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)  # each account all in: one position is worth up to 10,000
    candles = generate_candles(150, TIMEFRAME, seed=5)
    for i in range(len(candles)):  # the same candles on both symbols; SYMBOL's close is handled first
        run_candles(engine, candles, i, i + 1, symbol=SYMBOL)
        run_candles(engine, candles, i, i + 1, symbol=OTHER)

    assert db.trade_logs.count_documents({"strategy_id": strategy_id, "symbol": SYMBOL}) > 0
    assert db.trade_logs.count_documents({"strategy_id": strategy_id, "symbol": OTHER}) == 0
    events = limit_events(redis)
    assert events and {(e["symbol"], e["limit"]) for e in events} == {(OTHER, "max_total_exposure")}
    assert all(e["value"] > 15_000 for e in events)


@pytest.mark.parametrize("limit", ["max_total_exposure", "max_orders_per_minute"])
def test_limits_only_live_can_check_change_nothing_in_a_backtest(limit):
    doc = spec_doc("sma_cross", risk={"limits": {limit: 1}})
    plain = spec_doc("sma_cross")
    candles = generate_candles(300, TIMEFRAME, seed=5)
    assert backtest_trades(validate_spec(doc), candles) == backtest_trades(validate_spec(plain), candles)
