import pytest
from bson import ObjectId

from strategies.examples import load_example
from tickflow.settings import get_settings
from tickflow.storage import connections
from tickflow.storage.keys import strategy_key
from tickflow.storage.schema import STRATEGIES

URL = "/api/v1/strategies"


def spec(name: str = "SMA cross 10/20", example: str = "sma_cross") -> dict:
    return {**load_example(example), "name": name}


@pytest.fixture
def created(client, auth_headers):
    response = client.post(URL, json=spec("mine"), headers=auth_headers)
    assert response.status_code == 201
    return response.json


def test_creating_a_strategy_answers_201_with_its_location_and_etag(client, auth_headers):
    response = client.post(URL, json=spec(), headers=auth_headers)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["version"] == 1 and body["name"] == "SMA cross 10/20"
    assert body["spec"]["indicators"]["fast"]["inputs"] == {"real": "close"}  # normalised
    assert set(body) == {"id", "name", "spec", "version", "created_at", "updated_at", "live"}
    assert body["live"] is None


def test_a_created_strategy_can_be_read_back_at_its_location(client, auth_headers):
    post = client.post(URL, json=spec(), headers=auth_headers)
    get = client.get(post.headers["Location"], headers=auth_headers)
    assert get.status_code == 200 and get.json == post.json
    assert get.headers["ETag"] == '"1"'


def test_a_duplicate_name_is_a_409(client, auth_headers, created):
    response = client.post(URL, json=spec("mine"), headers=auth_headers)
    assert response.status_code == 409
    assert response.json["code"] == 409 and "mine" in response.json["message"]


def test_an_invalid_spec_is_a_422_listing_every_issue_by_path(client, auth_headers, db):
    response = client.post(URL, json={"name": 7, "timeframe": "7m", "bogus": 1}, headers=auth_headers)
    assert response.status_code == 422
    body = response.json
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity" and body["message"]
    errors = body["errors"]["json"]
    assert {"name", "timeframe", "bogus", "symbols", "rules"} <= set(errors)
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert db[STRATEGIES].count_documents({}) == 0


@pytest.mark.parametrize(
    ("sizing", "field", "words"),
    [
        ({"step": 0}, "sizing.step", "must be greater than 0"),
        ({"step": -0.001}, "sizing.step", "must be greater than 0"),
        ({"step": float("inf")}, "sizing.step", "must be a finite number"),
        ({"step": float("nan")}, "sizing.step", "must be a finite number"),
        ({"step": "0.001"}, "sizing.step", "expected a number or an object of symbol -> number"),
        ({"step": {"BTCUSDT": 0}}, "sizing.step.BTCUSDT", "must be greater than 0"),
        ({"step": {"BTCUSDT": [1]}}, "sizing.step.BTCUSDT", "expected a number, got array"),
        ({"step": 0.001, "min_qty": 0.0015}, "sizing.min_qty", "0.0015 is not a multiple of the step 0.001"),
    ],
)
def test_a_bad_quantity_step_or_minimum_is_a_422_naming_the_field(client, auth_headers, db, sizing, field, words):
    response = client.post(URL, json={**spec(), "sizing": sizing}, headers=auth_headers)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) == {field} and words in errors[field][0]
    assert db[STRATEGIES].count_documents({}) == 0


def test_listing_pages_through_strategies_in_an_envelope(client, auth_headers):
    for name in ["c", "a", "e", "b", "d"]:
        client.post(URL, json=spec(name), headers=auth_headers)
    response = client.get(f"{URL}?page=2&per_page=2", headers=auth_headers)
    assert response.status_code == 200
    body = response.json
    assert [s["name"] for s in body["items"]] == ["c", "d"]
    assert {k: body[k] for k in ("page", "per_page", "total", "pages")} == {
        "page": 2,
        "per_page": 2,
        "total": 5,
        "pages": 3,
    }


def test_listing_defaults_to_the_first_page_of_20(client, auth_headers):
    body = client.get(URL, headers=auth_headers).json
    assert body == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


def test_listing_filters_by_a_literal_name_prefix(client, auth_headers):
    for name in ["mean.rev", "meanXrev", "trend"]:
        client.post(URL, json=spec(name), headers=auth_headers)
    body = client.get(f"{URL}?name=mean.", headers=auth_headers).json
    assert [s["name"] for s in body["items"]] == ["mean.rev"]


def test_a_listed_strategy_is_what_reading_it_answers_live_state_included(client, auth_headers, created):
    client.post(f"{URL}/{created['id']}/start", json={"mode": "paper", "cash": 2_500}, headers=auth_headers)
    client.post(URL, json=spec("idle"), headers=auth_headers)
    listed = client.get(URL, headers=auth_headers).json["items"]
    assert listed == [client.get(f"{URL}/{item['id']}", headers=auth_headers).json for item in listed]


def test_a_list_shows_every_write_at_once_even_when_read_just_before(client, auth_headers, created):
    assert [s["name"] for s in client.get(URL, headers=auth_headers).json["items"]] == ["mine"]
    client.patch(f"{URL}/{created['id']}", json={"name": "renamed"}, headers=auth_headers)
    client.post(URL, json=spec("second"), headers=auth_headers)
    items = client.get(URL, headers=auth_headers).json["items"]
    assert [(s["name"], s["version"]) for s in items] == [("renamed", 2), ("second", 1)]
    client.delete(f"{URL}/{created['id']}", headers=auth_headers)
    assert [s["name"] for s in client.get(URL, headers=auth_headers).json["items"]] == ["second"]


def test_put_replaces_the_spec_and_bumps_the_version(client, auth_headers, created):
    response = client.put(f"{URL}/{created['id']}", json=spec("mine", "rsi_mean_reversion"), headers=auth_headers)
    assert response.status_code == 200
    assert response.json["version"] == 2 and response.headers["ETag"] == '"2"'
    assert set(response.json["spec"]["indicators"]) == {"rsi"}


def test_patch_merges_a_partial_spec(client, auth_headers, created):
    response = client.patch(
        f"{URL}/{created['id']}", json={"params": {"fast": 5}, "description": None}, headers=auth_headers
    )
    assert response.status_code == 200
    assert response.json["spec"]["params"] == {"fast": 5, "slow": 20}
    assert "description" not in response.json["spec"]


def test_patch_accepts_the_merge_patch_media_type(client, auth_headers, created):
    response = client.patch(
        f"{URL}/{created['id']}",
        data='{"params": {"fast": 7}}',
        content_type="application/merge-patch+json",
        headers=auth_headers,
    )
    assert response.status_code == 200 and response.json["spec"]["params"]["fast"] == 7


def test_a_patch_that_makes_the_spec_invalid_is_a_422_and_changes_nothing(client, auth_headers, created):
    response = client.patch(f"{URL}/{created['id']}", json={"timeframe": "2m"}, headers=auth_headers)
    assert response.status_code == 422 and "timeframe" in response.json["errors"]["json"]
    assert client.get(f"{URL}/{created['id']}", headers=auth_headers).json == created


@pytest.mark.parametrize("method", ["put", "patch"])
def test_if_match_with_the_current_version_lets_the_write_through(client, auth_headers, created, method):
    body = spec("mine") if method == "put" else {"params": {"fast": 5}}
    response = getattr(client, method)(f"{URL}/{created['id']}", json=body, headers={**auth_headers, "If-Match": '"1"'})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["put", "patch"])
def test_if_match_with_a_stale_version_is_a_412_naming_the_current_etag(client, auth_headers, created, method):
    client.patch(f"{URL}/{created['id']}", json={"params": {"fast": 5}}, headers=auth_headers)
    body = spec("mine") if method == "put" else {"params": {"fast": 6}}
    response = getattr(client, method)(f"{URL}/{created['id']}", json=body, headers={**auth_headers, "If-Match": '"1"'})
    assert response.status_code == 412
    assert response.json["code"] == 412 and response.headers["ETag"] == '"2"'


def test_delete_answers_204_and_the_strategy_is_gone_from_both_stores(client, auth_headers, created, db, redis):
    response = client.delete(f"{URL}/{created['id']}", headers=auth_headers)
    assert response.status_code == 204 and response.data == b""
    assert db[STRATEGIES].count_documents({"_id": ObjectId(created["id"])}) == 0
    assert redis.hget(strategy_key(created["id"]), "doc") in (None, "")
    assert client.get(f"{URL}/{created['id']}", headers=auth_headers).status_code == 404


def test_a_flushed_redis_does_not_show_in_the_api(client, auth_headers, created, redis):
    redis.flushdb()
    assert client.get(f"{URL}/{created['id']}", headers=auth_headers).json == created


def test_a_strategy_trading_live_says_so_with_its_mode_cash_and_start(client, auth_headers):
    created = client.post(URL, json=spec(), headers=auth_headers).json
    started = client.post(f"{URL}/{created['id']}/start", json={"cash": 2_500}, headers=auth_headers).json
    live = {"active": True, "mode": "paper", "cash": 2_500, "since": started["since"]}
    assert client.get(f"{URL}/{created['id']}", headers=auth_headers).json["live"] == live
    assert client.get(URL, headers=auth_headers).json["items"][0]["live"] == live
    client.post(f"{URL}/{created['id']}/stop", json={}, headers=auth_headers)
    assert client.get(f"{URL}/{created['id']}", headers=auth_headers).json["live"] is None


def test_with_redis_unreachable_strategies_still_read_with_their_live_state_from_mongodb(
    client, auth_headers, monkeypatch
):
    created = client.post(URL, json=spec(), headers=auth_headers).json
    started = client.post(f"{URL}/{created['id']}/start", json={"cash": 2_500}, headers=auth_headers).json
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # discard: nothing listens there
    get_settings.cache_clear()
    connections.reset_clients()
    try:
        response = client.get(f"{URL}/{created['id']}", headers=auth_headers)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        connections.reset_clients()
    assert response.status_code == 200
    assert response.json["live"] == {"active": True, "mode": "paper", "cash": 2_500, "since": started["since"]}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_strategy_trading_live_cannot_be_changed_or_deleted_until_stopped(client, auth_headers, db, method):
    created = client.post(URL, json=spec(), headers=auth_headers).json
    client.post(f"{URL}/{created['id']}/start", json={"cash": 2_500}, headers=auth_headers)
    body = {"PUT": {**spec(), "timeframe": "5m"}, "PATCH": {"timeframe": "5m"}, "DELETE": None}[method]
    response = client.open(f"{URL}/{created['id']}", method=method, json=body, headers=auth_headers)
    assert response.status_code == 409
    assert f"POST /api/v1/strategies/{created['id']}/stop" in response.json["message"]
    assert "close_positions" in response.json["message"]
    stored = client.get(f"{URL}/{created['id']}", headers=auth_headers).json
    assert (stored["version"], stored["spec"]["timeframe"]) == (1, created["spec"]["timeframe"])
    client.post(f"{URL}/{created['id']}/stop", json={}, headers=auth_headers)
    retried = client.open(f"{URL}/{created['id']}", method=method, json=body, headers=auth_headers)
    assert retried.status_code in (200, 204)
