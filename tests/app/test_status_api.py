"""``GET /api/v1/status``: what ``tickflow status`` shows, as JSON, against the real Redis and MongoDB."""

import re
import time

from strategies.examples import load_example
from tickflow.settings import live_settings
from tickflow.storage import keys
from tickflow.storage.strategies import StrategyRepository
from workers.engine import LiveEngine


def test_status_lists_services_queues_live_accounts_tick_ages_and_problems(client, auth_headers, db, redis):
    strategy = StrategyRepository(db, redis).create({**load_example("sma_cross"), "symbols": ["BTCUSDT", "ETHUSDT"]})
    LiveEngine(redis, db, live_settings()).start(strategy.id, "paper", 5_000.0)
    redis.hset(keys.last_tick("BTCUSDT"), mapping={"ts": int(time.time() * 1000) - 3_000, "p": 101.5, "q": 1})

    response = client.get("/api/v1/status?timeout=0.3", headers=auth_headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert {name: part["state"] for name, part in body["services"].items()} == dict.fromkeys(
        ("redis", "broker", "mongodb"), "up"
    )
    assert body["workers"] == [] and "no worker answered within 0.3 s" in body["problems"]
    assert {queue["name"] for queue in body["queues"]["queues"]} >= {"ingest", "strategy", "orders", "backtests"}
    assert [a["symbol"] for a in body["live"]["accounts"]] == ["BTCUSDT", "ETHUSDT"]
    assert body["live"]["accounts"][0]["strategy_name"] == strategy.name
    ticks = {row["symbol"]: row for row in body["live"]["symbols"]}
    assert 3 <= ticks["BTCUSDT"]["age_s"] < 60 and ticks["ETHUSDT"] == {
        "symbol": "ETHUSDT",
        "timeframe": "1h",
        "last_tick": None,
        "age_s": None,
        "stale": False,  # started just now: its first tick is not overdue yet
    }
    assert body["live"]["outbox"] == 0 and body["jobs"] == {"backtests": [], "sweeps": []}
    assert body["live"]["halt"] is None


def test_a_live_symbol_silent_for_two_periods_is_stale_and_a_problem(client, auth_headers, db, redis):
    strategy = StrategyRepository(db, redis).create({**load_example("sma_cross"), "timeframe": "1m"})
    LiveEngine(redis, db, live_settings()).start(strategy.id, "paper", 5_000.0)
    redis.hset(keys.last_tick("BTCUSDT"), mapping={"ts": int(time.time() * 1000) - 121_000, "p": 101.5, "q": 1})

    body = client.get("/api/v1/status?timeout=0.3", headers=auth_headers).json
    [row] = body["live"]["symbols"]
    assert row["stale"] is True and row["timeframe"] == "1m" and row["age_s"] >= 121
    assert any(re.match(r"BTCUSDT is stale: no tick for 12\d s, over 2 periods of 1m", p) for p in body["problems"])

    redis.hset(keys.last_tick("BTCUSDT"), "ts", int(time.time() * 1000))
    body = client.get("/api/v1/status?timeout=0.3", headers=auth_headers).json
    assert body["live"]["symbols"][0]["stale"] is False and not any("stale" in p for p in body["problems"])


def test_status_needs_a_token_and_a_sane_timeout(client, auth_headers):
    assert client.get("/api/v1/status").status_code == 401
    response = client.get("/api/v1/status?timeout=600", headers=auth_headers)
    assert response.status_code == 422 and "timeout" in response.json["errors"]["query"]
