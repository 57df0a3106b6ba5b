"""Inputs beyond every documented bound answer a JSON 4xx naming the field, never a 500 (issue 13)."""

import pytest

from strategies.examples import load_example
from strategies.rules import MAX_RULE_BYTES
from tickflow.storage.schema import STRATEGIES

TOO_FAR = 10**20


@pytest.fixture
def strategy_id(client, auth_headers):
    response = client.post(
        "/api/v1/strategies", json={**load_example("sma_cross"), "name": "bounds"}, headers=auth_headers
    )
    return response.json["id"]


def assert_error_at(response, code: int, location: str, field: str) -> None:
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.json["code"] == code
    assert response.json["errors"][location][field]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/trades",
        "/api/v1/strategies",
        "/api/v1/backtests",
        "/api/v1/sweeps",
        "/api/v1/candles/BTCUSDT/1m",
        "/api/v1/audit",
    ],
)
@pytest.mark.parametrize("page", [10**12, 10**6 + 1])
def test_a_page_beyond_the_bound_is_a_422_at_page_on_every_listing(client, auth_headers, path, page):
    assert_error_at(client.get(f"{path}?page={page}", headers=auth_headers), 422, "query", "page")


@pytest.mark.parametrize("value", [-TOO_FAR, TOO_FAR, "0001-01-01", "-5"])
@pytest.mark.parametrize("name", ["start", "end"])
def test_trade_times_out_of_range_are_a_422_at_the_field(client, auth_headers, name, value):
    assert_error_at(client.get(f"/api/v1/trades?{name}={value}", headers=auth_headers), 422, "query", name)


def test_a_trade_range_ending_at_or_before_its_start_is_a_422_at_end(client, auth_headers):
    assert_error_at(client.get("/api/v1/trades?start=10&end=10", headers=auth_headers), 422, "query", "end")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/candles/BTCUSDT/1m?start={value}",
        "/api/v1/strategies/{sid}/chart?start={value}",
        "/api/v1/live/equity/history?strategy_id={sid}&start={value}",
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01", str(TOO_FAR)])
def test_query_times_beyond_1970_to_9999_are_a_422_at_the_field(client, auth_headers, strategy_id, path, value):
    response = client.get(path.format(sid=strategy_id, value=value), headers=auth_headers)
    assert_error_at(response, 422, "query", "start")


def test_an_equity_history_ending_before_its_start_is_a_422_at_end(client, auth_headers, strategy_id):
    url = f"/api/v1/live/equity/history?strategy_id={strategy_id}&start=2024-01-02&end=2024-01-01"
    assert_error_at(client.get(url, headers=auth_headers), 422, "query", "end")


@pytest.mark.parametrize("kind", ["backtests", "sweeps"])
@pytest.mark.parametrize("value", ["0001-01-01", -(10**20), "9999-12-31T23:59:59.999-01:00"])
def test_launch_times_out_of_range_are_a_422_and_queue_nothing(client, auth_headers, db, strategy_id, kind, value):
    body = {"strategy_id": strategy_id, "start": value, **({"grid": {"fast": [5]}} if kind == "sweeps" else {})}
    assert_error_at(client.post(f"/api/v1/{kind}", json=body, headers=auth_headers), 422, "json", "start")
    assert client.get(f"/api/v1/{kind}", headers=auth_headers).json["total"] == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("if_match", ["", '""', " "])
def test_an_empty_if_match_is_a_412_naming_the_header_and_changes_nothing(
    client, auth_headers, db, strategy_id, method, if_match
):
    body = (
        {"timeframe": "5m"} if method == "PATCH" else {**load_example("sma_cross"), "name": "bounds", "timeframe": "5m"}
    )
    response = client.open(
        f"/api/v1/strategies/{strategy_id}", method=method, json=body, headers={**auth_headers, "If-Match": if_match}
    )
    assert_error_at(response, 412, "headers", "If-Match")
    assert db[STRATEGIES].find_one()["version"] == 1


@pytest.mark.parametrize(
    "grid",
    [
        {"start": 1, "stop": 2, "step": 1e-300},
        {"start": -1e308, "stop": 1e308, "step": 1},
        {"start": 1, "stop": 10**400, "step": 1},
        {"start": 1, "stop": 10, "step": 10**400},
        [10**400],
        10**400,
    ],
    ids=["tiny-step", "span-overflows", "huge-int-stop", "huge-int-step", "huge-int-in-list", "huge-int-value"],
)
def test_sweep_ranges_that_overflow_are_a_422_at_the_parameter(client, auth_headers, strategy_id, grid):
    response = client.post(
        "/api/v1/sweeps", json={"strategy_id": strategy_id, "grid": {"fast": grid}}, headers=auth_headers
    )
    assert_error_at(response, 422, "json", "grid.fast")


def test_a_sweep_constraint_over_4_kib_is_a_422_at_constraint(client, auth_headers, strategy_id):
    constraint = "$fast < $slow" + " and $fast < $slow" * 1000  # ~18 KiB: under the 64 KiB body cap
    body = {"strategy_id": strategy_id, "grid": {"fast": [5, 10]}, "constraint": constraint}
    response = client.post("/api/v1/sweeps", json=body, headers=auth_headers)
    assert_error_at(response, 422, "json", "constraint")
    assert f"at most {MAX_RULE_BYTES:,}" in response.json["errors"]["json"]["constraint"][0]


def test_a_rule_over_4_kib_is_a_422_at_its_path_and_stores_nothing(client, auth_headers, db):
    rule = "close > open" + " and close > open" * 300
    spec = {**load_example("sma_cross"), "name": "long-rule", "rules": {"enter_long": rule}}
    response = client.post("/api/v1/strategies", json=spec, headers=auth_headers)
    assert_error_at(response, 422, "json", "rules.enter_long")
    assert db[STRATEGIES].count_documents({}) == 0


@pytest.mark.parametrize("path", ["/api/v1/backtests", "/api/v1/sweeps", "/api/v1/strategies"])
def test_a_json_request_over_64_kib_is_a_413_naming_the_limit(client, auth_headers, db, path):
    body = '{"strategy_id": "' + "x" * (65 * 1024) + '"}'
    response = client.post(path, data=body, content_type="application/json", headers=auth_headers)
    assert response.status_code == 413
    assert "65,536 bytes" in response.json["message"]
    assert client.get(path, headers=auth_headers).json["total"] == 0
