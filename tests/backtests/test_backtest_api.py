"""The backtest API without any worker: runs stay queued, so what the API itself does is all that is seen."""

from __future__ import annotations

import base64
import json

import pytest
import redis as redis_lib
from bson import ObjectId

from tests.backtests.conftest import SYMBOL
from tickflow.settings import get_settings
from tickflow.storage.strategies import StrategyRepository

URL = "/api/v1/backtests"


@pytest.fixture
def post(client, auth_headers):
    def send(body: dict, expect: int = 202) -> dict:
        response = client.post(URL, json=body, headers=auth_headers)
        assert response.status_code == expect, response.json
        return response.json if expect != 202 else {**response.json, "location": response.headers["Location"]}

    return send


def test_post_queues_a_run_with_a_snapshot_of_the_strategy_and_answers_202_with_its_location(post, strategy):
    run = post({"strategy_id": strategy.id})
    assert run["location"] == f"{URL}/{run['id']}"
    assert run["state"] == "queued" and run["progress"] == {"stage": "queued"} and run["attempts"] == 0
    assert run["spec"] == strategy.spec and run["strategy_version"] == strategy.version
    assert run["strategy_name"] == strategy.name and run["params"] == {"fast": 10, "slow": 20}
    assert (run["symbol"], run["timeframe"], run["cash"]) == (SYMBOL, "1h", 10_000.0)
    assert run["start"] is None and run["end"] is None
    assert "stats" not in run


def test_params_symbol_range_and_cash_are_applied_to_the_snapshot(post, strategy):
    run = post(
        {
            "strategy_id": strategy.id,
            "params": {"fast": 5},
            "symbol": "ethusdt",
            "start": "2024-01-02T00:00:00Z",
            "end": 1_704_326_400_000,
            "cash": 2_500,
        }
    )
    assert run["params"] == {"fast": 5, "slow": 20}
    assert run["spec"]["params"] == {"fast": 5, "slow": 20}
    assert run["symbol"] == "ETHUSDT" and run["cash"] == 2_500.0
    assert (run["start"], run["end"]) == (1_704_153_600_000, 1_704_326_400_000)


def test_the_snapshot_stays_as_created_when_the_strategy_is_edited(post, strategy, client, auth_headers, db, redis):
    run = post({"strategy_id": strategy.id})
    StrategyRepository(db, redis).patch(strategy.id, {"params": {"fast": 3}})
    again = client.get(run["location"], headers=auth_headers).json
    assert again["spec"]["params"] == {"fast": 10, "slow": 20} and again["strategy_version"] == 1


def test_the_task_message_carries_only_the_run_id(post, strategy):
    run = post({"strategy_id": strategy.id})
    broker = redis_lib.Redis.from_url(get_settings().celery_broker_url)
    messages = [json.loads(raw) for raw in broker.lrange("backtests", 0, -1)]
    mine = [m for m in messages if m["headers"]["id"] == run["task_id"]]
    assert len(mine) == 1 and mine[0]["headers"]["task"] == "tasks.backtests.run"
    args, kwargs, _ = json.loads(base64.b64decode(mine[0]["body"]))
    assert args == [run["id"]] and kwargs == {}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"strategy_id": None}, "strategy_id"),
        ({"strategy_id": "0" * 24}, "strategy_id"),
        ({"strategy_id": "not-an-id"}, "strategy_id"),
        ({"params": {"fst": 5}}, "params.fst"),
        ({"params": {"fast": "five"}}, "params.fast"),
        ({"params": {"fast": 3.5}}, "params"),
        ({"symbol": "btc/usdt"}, "symbol"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"cash": -1}, "cash"),
        ({"cash": "lots"}, "cash"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_an_invalid_request_is_a_422_naming_the_field(client, auth_headers, strategy, body, field):
    response = client.post(URL, json={"strategy_id": strategy.id, **body}, headers=auth_headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"], response.json


def test_a_request_without_a_strategy_is_a_422(client, auth_headers):
    response = client.post(URL, json={"symbol": "BTCUSDT"}, headers=auth_headers)
    assert response.status_code == 422 and "strategy_id" in response.json["errors"]["json"]


def test_nothing_is_stored_for_an_invalid_request(client, auth_headers, strategy, db):
    client.post(URL, json={"strategy_id": strategy.id, "params": {"fst": 5}}, headers=auth_headers)
    assert db.backtest_results.count_documents({}) == 0


def test_backtests_need_a_token(client, strategy):
    assert client.post(URL, json={"strategy_id": strategy.id}).status_code == 401
    assert client.get(URL).status_code == 401


def test_the_list_pages_newest_first_and_filters_by_strategy_state_and_symbol(
    post, client, auth_headers, strategy, db, redis
):
    other = StrategyRepository(db, redis).create({**strategy.spec, "name": "other"})
    ids = [post({"strategy_id": strategy.id})["id"] for _ in range(3)]
    eth = post({"strategy_id": other.id, "symbol": "ETHUSDT"})["id"]
    client.delete(f"{URL}/{ids[0]}", headers=auth_headers)

    def listed(query: str = "") -> dict:
        response = client.get(f"{URL}?{query}", headers=auth_headers)
        assert response.status_code == 200, response.json
        return response.json

    everything = listed()
    assert [item["id"] for item in everything["items"]] == [eth, *reversed(ids)]
    assert "spec" not in everything["items"][0] and "equity_chart" not in everything["items"][0]
    assert [item["id"] for item in listed(f"strategy_id={strategy.id}")["items"]] == list(reversed(ids))
    assert [item["id"] for item in listed("state=cancelled")["items"]] == [ids[0]]
    assert [item["id"] for item in listed("symbol=ethusdt")["items"]] == [eth]
    second = listed("per_page=3&page=2")
    assert (second["total"], second["pages"], [item["id"] for item in second["items"]]) == (4, 2, [ids[0]])


@pytest.mark.parametrize("query", ["state=sleeping", "per_page=0", "page=0", "colour=red"])
def test_the_list_refuses_bad_query_arguments_with_422(client, auth_headers, query):
    assert client.get(f"{URL}?{query}", headers=auth_headers).status_code == 422


@pytest.mark.parametrize("run_id", [str(ObjectId()), "nope"])
def test_an_unknown_run_is_a_404(client, auth_headers, run_id):
    for method, path in (("get", ""), ("delete", ""), ("get", "/trades"), ("get", "/equity"), ("get", "/chart")):
        response = getattr(client, method)(f"{URL}/{run_id}{path}", headers=auth_headers)
        assert response.status_code == 404 and response.json["message"] == "No backtest has this id."


def test_deleting_a_queued_run_cancels_it_and_deleting_the_cancelled_run_removes_it(
    post, client, auth_headers, strategy, db
):
    run = post({"strategy_id": strategy.id})
    first = client.delete(run["location"], headers=auth_headers)
    assert first.status_code == 200 and first.json["state"] == "cancelled" and first.json["finished_at"]
    again = client.delete(run["location"], headers=auth_headers)
    assert again.status_code == 204 and again.data == b""
    assert client.get(run["location"], headers=auth_headers).status_code == 404
    assert db.backtest_results.count_documents({}) == 0
    assert client.delete(run["location"], headers=auth_headers).status_code == 404


def test_trades_equity_and_chart_of_a_run_that_is_not_done_are_a_409(post, client, auth_headers, strategy):
    run = post({"strategy_id": strategy.id})
    for path in ("/trades", "/equity", "/chart"):
        response = client.get(run["location"] + path, headers=auth_headers)
        assert response.status_code == 409 and "queued" in response.json["message"]
