"""The live API: start/stop, dashboard reads from Redis, trades from MongoDB; and the events the stream serves.

The engine runs in the test process here (its methods are what the tasks call), so the
API sees real state without a worker.
"""

from __future__ import annotations

import json

import pytest

from app.api import live
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc
from tests.workers.replay import run_candles
from tickflow.storage import keys
from tickflow.synthetic import generate_candles


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
