"""The kill switch: a halt blocks every new entry, keeps exits and stops working, can flatten, survives an emptied
Redis, and is reachable through the API and the CLI with MongoDB down.

The semantics run on the engine in the test process (its methods are what the tasks call); the outage runs
through a real live worker whose MongoDB is stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from pymongo import MongoClient

from cli.main import cli
from strategies.backtest import run_backtest
from strategies.spec import validate_spec
from tests.conftest import ROOT
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, send_ingest, spec_doc
from tests.workers.replay import candle_ticks, replay, run_candles
from tests.workers.test_crash_and_outage import own_mongo  # noqa: F401  (a fixture)
from tickflow.settings import LiveSettings, get_settings
from tickflow.storage import connections, keys
from tickflow.storage.halt import current_halt, halt, resume
from tickflow.storage.schema import ensure_schema
from tickflow.storage.tokens import TokenRepository
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine
from workers.recovery import ensure_live_state
from workers.ticks import encode_batch

CANDLES = generate_candles(600, TIMEFRAME, seed=5)
STOPPED_OUT = {"risk": {"stop_loss": {"fraction": 0.003}}}  # its third trade is stopped out


def _events(redis, kind: str) -> list[dict]:
    return [json.loads(f["data"]) for _, f in redis.xrange(keys.live_events()) if f["type"] == kind]


def _first_entry(engine, strategy_id: str, start: int = 0) -> int:
    """Run candles from ``start`` until the strategy holds a position; the index of the candle that opened it."""
    for i in range(start, len(CANDLES)):
        run_candles(engine, CANDLES, i, i + 1)
        if engine.book.load(strategy_id, SYMBOL, 10_000).side:
            return i
    raise AssertionError("the strategy never entered")


def _entries(db, strategy_id: str) -> list[int]:
    return sorted(doc["entry_time"] for doc in db.trade_logs.find({"strategy_id": strategy_id}))


def test_a_halt_blocks_every_entry_while_exits_still_trade_and_resume_lets_entries_back(engine, db, redis):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    opened = _first_entry(engine, strategy_id)
    halt(redis, "tests")

    run_candles(engine, CANDLES, opened + 1, 400)
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side == 0  # its exit signal still closed it
    assert len(_entries(db, strategy_id)) == 1  # and nothing opened since
    blocked = _events(redis, "limit")
    assert blocked and {(e["limit"], e["order"], e["action"]) for e in blocked} == {("halt", "long", "cancelled")}
    assert all(e["strategy_id"] == strategy_id and e["symbol"] == SYMBOL for e in blocked)

    resume(redis, "tests")
    _first_entry(engine, strategy_id, 400)
    assert len(_entries(db, strategy_id)) == 2


def test_stops_keep_firing_while_halted(engine, db, redis):
    doc = spec_doc("sma_cross", **STOPPED_OUT)
    [stopped] = [
        t for t in run_backtest(validate_spec(doc), CANDLES, 10_000).trades if t.exit_reason.value == "stop_loss"
    ][:1]
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    entry = int(np.searchsorted(CANDLES.ts, stopped.entry_ts))
    run_candles(engine, CANDLES, 0, entry + 1)
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side
    halt(redis, "tests")

    run_candles(engine, CANDLES, entry + 1, int(np.searchsorted(CANDLES.ts, stopped.exit_ts)) + 1)
    last = db.trade_logs.find_one({"strategy_id": strategy_id}, sort=[("entry_time", -1)])
    assert last["status"] == "closed" and last["exit_reason"] == "stop_loss" and last["exit_time"] == stopped.exit_ts


def test_halt_with_flatten_closes_every_position_at_its_next_tick(engine, db, redis):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    opened = _first_entry(engine, strategy_id)
    state = halt(redis, "tests", flatten=True, reason="exchange incident")
    assert state.flatten and state.reason == "exchange incident"

    engine.ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, CANDLES, opened + 1)))
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side == 0
    [trade] = db.trade_logs.find({"strategy_id": strategy_id})
    assert trade["status"] == "closed" and trade["exit_price"] == pytest.approx(CANDLES.close[opened + 1], rel=0.01)


def test_halting_again_only_adds_flatten_and_keeps_when_it_began(redis):
    first = halt(redis, "alice", reason="news")
    again = halt(redis, "bob")
    assert again == first
    flattening = halt(redis, "bob", flatten=True)
    assert flattening.since == first.since and flattening.flatten and flattening.by == "bob"
    assert flattening.reason == "news"
    assert [e["halted"] for e in _events(redis, "halt")] == [True, True]
    assert resume(redis, "carol") == flattening and current_halt(redis) is None
    assert resume(redis, "carol") is None


def test_a_halt_survives_redis_coming_back_empty(engine, db, redis):
    halt(redis, "tests", reason="overnight", db=db)
    redis.flushall()
    assert ensure_live_state(engine)
    restored = current_halt(redis)
    assert restored is not None and restored.by == "tests" and restored.reason == "overnight"

    resume(redis, "tests", db=db)
    redis.flushall()
    ensure_live_state(engine)
    assert current_halt(redis) is None


def test_the_api_halts_reports_and_resumes_and_says_what_is_wrong(client, auth_headers, redis):
    assert client.get("/api/v1/live/halt", headers=auth_headers).json == {
        "halted": False, "since": None, "flatten": False, "by": None, "reason": None,
    }  # fmt: skip
    halted = client.post("/api/v1/live/halt", json={"reason": "maintenance"}, headers=auth_headers)
    assert halted.status_code == 200
    assert halted.json["halted"] is True and halted.json["by"] == "tests" and halted.json["flatten"] is False
    assert client.get("/api/v1/live/halt", headers=auth_headers).json == halted.json
    assert client.get("/api/v1/status?timeout=0.2", headers=auth_headers).json["live"]["halt"] == halted.json

    too_long = client.post("/api/v1/live/halt", json={"reason": "x" * 201}, headers=auth_headers)
    assert too_long.status_code == 422 and "reason" in too_long.json["errors"]["json"]
    not_bool = client.post("/api/v1/live/halt", json={"flatten": "maybe"}, headers=auth_headers)
    assert not_bool.status_code == 422 and "flatten" in not_bool.json["errors"]["json"]
    assert client.post("/api/v1/live/halt", json={}).status_code == 401

    resumed = client.post("/api/v1/live/resume", headers=auth_headers)
    assert resumed.status_code == 200 and resumed.json["halted"] is False
    assert [e["halted"] for e in _events(redis, "halt")] == [True, False]


def test_the_cli_halts_and_resumes(redis):
    runner = CliRunner()
    halted = runner.invoke(cli, ["halt", "--flatten", "--reason", "drill"], catch_exceptions=False)
    assert halted.exit_code == 0 and "every position is being closed" in halted.output
    assert current_halt(redis).flatten
    again = runner.invoke(cli, ["halt"], catch_exceptions=False)
    assert "already halted" in again.output
    assert "trading resumed" in runner.invoke(cli, ["resume"], catch_exceptions=False).output
    too_long = runner.invoke(cli, ["halt", "--reason", "x" * 201])
    assert too_long.exit_code != 0 and current_halt(redis) is None


def test_a_halt_works_and_holds_with_mongodb_down(start_worker, own_mongo, redis, client, monkeypatch):  # noqa: F811
    """Through a real worker: halted from the API and the CLI while MongoDB is stopped, no entry is taken."""
    uri = f"mongodb://127.0.0.1:{own_mongo.port}/tickflow_halt?directConnection=true"
    db = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000).get_default_database()
    ensure_schema(db)
    engine = LiveEngine(redis, db, LiveSettings())
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    token, _ = TokenRepository(db, redis).create("operator")
    headers = {"Authorization": f"Bearer {token}"}
    start_worker(env={"MONGO_URI": uri})
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, CANDLES, stop=50)
    monkeypatch.setenv("MONGO_URI", uri)  # the API's MongoDB is the one about to stop
    get_settings.cache_clear()
    connections.reset_clients()
    try:
        assert client.get("/api/v1/live/halt", headers=headers).status_code == 200  # the token was seen
        own_mongo.stop()

        halted = client.post("/api/v1/live/halt", json={"reason": "mongo down"}, headers=headers)
        assert halted.status_code == 200 and halted.json["by"] == "operator"
        cli_env = {**os.environ, "MONGO_URI": uri}
        for command in (["resume"], ["halt", "--reason", "still down"]):
            done = subprocess.run(
                [sys.executable, "-m", "cli", *command], cwd=ROOT, env=cli_env, capture_output=True, text=True,
                timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert "Redis holds the switch" in done.stderr  # MongoDB's copy could not be written
        assert current_halt(redis).reason == "still down"

        replay(send_ingest, redis, SYMBOL, TIMEFRAME, CANDLES, start=50, stop=300, timeout_s=60)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        connections.reset_clients()
    assert all(e["reason"] != "open" for e in _events(redis, "order") if e["ts"] > int(CANDLES.ts[50]))
    assert _events(redis, "limit"), "the replay had entry signals, and each was blocked"
