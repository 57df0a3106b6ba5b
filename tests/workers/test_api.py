"""The live API: start/stop, dashboard reads from Redis, trades from MongoDB; and the events the stream serves.

The engine runs in the test process here (its methods are what the tasks call), so the
API sees real state without a worker.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pymongo import MongoClient

from app.api import live
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc
from tests.workers.replay import run_candles
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine


@pytest.fixture
def live_client(app):
    """The API client with the live blueprint registered (as the app factory will)."""
    if "live" not in app.blueprints:
        app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(live.blp)
    return app.test_client()


def test_start_trade_read_and_stop(live_client, auth_headers, db, redis, engine):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    started = live_client.post(f"/api/v1/strategies/{strategy_id}/start", json={"mode": "paper"}, headers=auth_headers)
    assert started.status_code == 200, started.json
    assert db.strategies.find_one()["live"]["active"] is True
    assert live_client.get("/api/v1/live/strategies", headers=auth_headers).json[0]["strategy_id"] == strategy_id

    candles = generate_candles(300, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))

    symbol = live_client.get(f"/api/v1/live/symbols/{SYMBOL}", headers=auth_headers).json
    assert symbol["last_tick"]["p"] == candles.close[-1]
    frame = symbol["timeframes"]["1m"]
    assert frame["forming"]["t"] == candles.ts[-1] and len(frame["closed"]) == 100
    assert set(frame["indicators"][strategy_id]["values"]) == {"fast", "slow"}
    assert live_client.get("/api/v1/live/signals", headers=auth_headers).json[0]["strategy_id"] == strategy_id

    trades = live_client.get(
        f"/api/v1/trades?strategy_id={strategy_id}&status=closed&per_page=3", headers=auth_headers
    ).json
    assert trades["total"] > 3 and len(trades["items"]) == 3
    assert live_client.get("/api/v1/trades?status=bogus", headers=auth_headers).status_code == 422

    account = live_client.get("/api/v1/live/positions", headers=auth_headers).json[0]
    assert set(account) == set(live.AccountSchema().fields) and live.AccountSchema().validate(account) == {}
    equity = live_client.get("/api/v1/live/equity", headers=auth_headers).json[0]
    assert equity["equity"] == pytest.approx(account["equity"])
    if account["side"] != "flat":
        assert account["unrealised_pnl"] == pytest.approx(
            account["size"] * (candles.close[-1] - account["entry_price"])
        )

    stopped = live_client.post(
        f"/api/v1/strategies/{strategy_id}/stop", json={"close_positions": True}, headers=auth_headers
    )
    assert stopped.json == {"strategy_id": strategy_id, "active": False, "was_active": True}
    assert db.strategies.find_one()["live"]["active"] is False
    assert not redis.hexists(keys.live_active(), strategy_id)
    assert db.trade_logs.count_documents({"strategy_id": strategy_id, "status": "open"}) == 0
    assert (
        live_client.post("/api/v1/strategies/0123456789abcdef01234567/start", json={}, headers=auth_headers).status_code
        == 404
    )


def test_every_event_is_json_with_numbers_as_numbers(db, redis, engine):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(120, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, 120)

    events = [(fields["type"], json.loads(fields["data"])) for _, fields in redis.xrange(keys.live_events())]
    assert {"candle", "signal", "order", "fill"} <= {kind for kind, _ in events}
    closes = [data for kind, data in events if kind == "candle"]
    assert [c["t"] for c in closes] == candles.ts[:119].tolist()  # the last candle is still forming
    for close, i in zip(closes, range(119)):
        assert (close["symbol"], close["timeframe"]) == (SYMBOL, TIMEFRAME)
        assert [close[name] for name in "ohlc"] == [candles.open[i], candles.high[i], candles.low[i], candles.close[i]]
        assert close["v"] == pytest.approx(candles.volume[i])
    for kind, data in events:
        numbers = [value for value in _leaves(data) if not isinstance(value, (str, bool)) and value is not None]
        assert all(isinstance(value, (int, float)) for value in numbers), (kind, data)
        assert not any(isinstance(value, str) and _is_number(value) for value in _leaves(data)), (kind, data)
    assert all(isinstance(data[name], int) for kind, data in events if kind in ("order", "fill") for name in ["ts"])


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _accounts(live_client, auth_headers) -> tuple[list[dict], list[dict]]:
    positions = live_client.get("/api/v1/live/positions", headers=auth_headers).json
    equity = live_client.get("/api/v1/live/equity", headers=auth_headers).json
    return positions, equity


def _start(live_client, auth_headers, strategy_id: str, cash: float):
    return live_client.post(
        f"/api/v1/strategies/{strategy_id}/start", json={"mode": "paper", "cash": cash}, headers=auth_headers
    )


def test_live_equity_is_the_sum_of_the_strategys_positions_and_equity_is_balance_plus_unrealised(
    live_client, auth_headers, db, redis, engine
):
    strategy_id = create_strategy(db, redis, {**spec_doc("sma_cross"), "symbols": [SYMBOL, "ETHUSDT"]})
    assert _start(live_client, auth_headers, strategy_id, 5_000).status_code == 200
    candles = generate_candles(300, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))
    run_candles(engine, generate_candles(300, TIMEFRAME, seed=6), 0, 300, symbol="ETHUSDT")

    positions, [total] = _accounts(live_client, auth_headers)
    assert len(positions) == 2
    for account in positions:
        assert account["equity"] == pytest.approx(account["balance"] + account["unrealised_pnl"])
    for name in ("cash", "balance", "unrealised_pnl", "equity"):
        assert total[name] == pytest.approx(sum(account[name] for account in positions))
    assert total["positions"] == sum(account["side"] != "flat" for account in positions)


def test_a_flat_strategy_started_again_with_new_cash_starts_a_new_run_holding_that_cash(
    live_client, auth_headers, db, redis, engine
):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    first = _start(live_client, auth_headers, strategy_id, 10_000).json
    candles = generate_candles(300, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))
    live_client.post(f"/api/v1/strategies/{strategy_id}/stop", json={"close_positions": True}, headers=auth_headers)
    assert db.trade_logs.count_documents({"strategy_id": strategy_id, "status": "closed", "run": first["since"]}) > 0

    second = _start(live_client, auth_headers, strategy_id, 100_000)
    assert second.status_code == 200 and second.json["since"] > first["since"]
    [account], [total] = _accounts(live_client, auth_headers)
    assert (account["cash"], account["balance"], account["equity"]) == (100_000, 100_000, 100_000)
    assert (total["cash"], total["equity"]) == (100_000, 100_000)


def _hold_a_position(engine, strategy_id: str) -> None:
    candles = generate_candles(300, TIMEFRAME, seed=5)
    for i in range(len(candles)):
        run_candles(engine, candles, i, i + 1)
        if engine.book.load(strategy_id, SYMBOL, 10_000).side:
            return
    raise AssertionError("the strategy never entered")


def test_a_strategy_holding_positions_stops_only_with_close_positions(live_client, auth_headers, db, redis, engine):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    _start(live_client, auth_headers, strategy_id, 10_000)
    _hold_a_position(engine, strategy_id)

    refused = live_client.post(f"/api/v1/strategies/{strategy_id}/stop", json={}, headers=auth_headers)
    assert refused.status_code == 409
    assert "BTCUSDT" in refused.json["message"] and "close_positions" in refused.json["message"]
    assert "halt" in refused.json["message"]
    assert redis.hexists(keys.live_active(), strategy_id)  # still trading, its stops still checked

    stopped = live_client.post(
        f"/api/v1/strategies/{strategy_id}/stop", json={"close_positions": True}, headers=auth_headers
    )
    assert stopped.status_code == 200 and stopped.json["was_active"] is True
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side == 0


def test_a_strategy_left_holding_positions_resumes_its_run_only_with_its_own_cash(
    live_client, auth_headers, db, redis, engine
):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    first = _start(live_client, auth_headers, strategy_id, 10_000).json
    _hold_a_position(engine, strategy_id)
    engine.active.stop(strategy_id)  # left holding it, as a stop before close_positions was required could
    held = engine.book.load(strategy_id, SYMBOL, 10_000).state.copy()

    refused = _start(live_client, auth_headers, strategy_id, 50_000)
    assert refused.status_code == 409
    assert "BTCUSDT" in refused.json["message"] and "close_positions" in refused.json["message"]
    assert not redis.hexists(keys.live_active(), strategy_id)

    resumed = _start(live_client, auth_headers, strategy_id, 10_000)
    assert resumed.status_code == 200 and resumed.json["since"] == first["since"]
    np.testing.assert_array_equal(engine.book.load(strategy_id, SYMBOL, 10_000).state, held)


def _history(live_client, auth_headers, query: str):
    return live_client.get(f"/api/v1/live/equity/history?{query}", headers=auth_headers)


def test_equity_history_has_one_point_per_close_ending_at_what_live_equity_shows(
    live_client, auth_headers, db, redis, engine
):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(120, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))

    history = _history(live_client, auth_headers, f"strategy_id={strategy_id}").json
    assert history["t"] == candles.ts[:-1].tolist() and history["sampled"] is False  # every closed candle
    [now] = live_client.get("/api/v1/live/equity", headers=auth_headers).json
    assert history["equity"][-1] == pytest.approx(now["equity"])
    assert history["balance"][-1] == pytest.approx(now["balance"])
    assert set(history["positions"]) <= {0, 1} and 1 in history["positions"]

    engine.equity.record([strategy_id], TIMEFRAME, int(candles.ts[-2]))  # as a redelivered execute would
    again = _history(live_client, auth_headers, f"strategy_id={strategy_id}").json
    assert again["t"] == history["t"] and again["equity"] == history["equity"]

    cut = _history(live_client, auth_headers, f"strategy_id={strategy_id}&start={candles.ts[10]}&end={candles.ts[20]}")
    assert cut.json["t"] == candles.ts[10:20].tolist()
    few = _history(live_client, auth_headers, f"strategy_id={strategy_id}&max_points=10").json
    assert few["sampled"] is True and len(few["t"]) == 10 and few["t"][-1] == history["t"][-1]


def test_equity_points_wait_in_redis_while_mongodb_is_away_and_are_drained_later(
    live_client, auth_headers, db, redis, engine
):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(20, TIMEFRAME, seed=5)
    away = MongoClient("mongodb://127.0.0.1:9/tickflow", serverSelectionTimeoutMS=200)  # nothing listens there
    cut_off = LiveEngine(redis, away["tickflow"], LiveSettings())
    cut_off.catalog = engine.catalog  # the strategy itself is read as usual; only the archive is away
    run_candles(cut_off, candles, 0, len(candles))

    assert db.equity_history.count_documents({}) == 0 and engine.equity.outbox.pending() == len(candles) - 1
    shown = _history(live_client, auth_headers, f"strategy_id={strategy_id}").json
    assert shown["t"] == candles.ts[:-1].tolist()

    assert engine.equity.outbox.drain() == len(candles) - 1
    assert engine.equity.outbox.pending() == 0
    assert _history(live_client, auth_headers, f"strategy_id={strategy_id}").json == shown


def test_equity_history_refuses_bad_queries_with_the_field(live_client, auth_headers):
    assert "strategy_id" in _history(live_client, auth_headers, "").json["errors"]["query"]
    response = _history(live_client, auth_headers, "strategy_id=x&max_points=1")
    assert response.status_code == 422 and "max_points" in response.json["errors"]["query"]
    response = _history(live_client, auth_headers, "strategy_id=x&start=yesterday")
    assert response.status_code == 422 and "start" in response.json["errors"]["query"]
