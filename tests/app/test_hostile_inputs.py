"""A battery of hostile and malformed requests: every one gets a JSON 4xx and writes nothing.

Each case is ``(method, path, request kwargs, expected status)``; ``{id}``
in a path stands for an existing strategy.
"""

import json

import pytest

from strategies.examples import load_example
from tickflow.storage.schema import STRATEGIES

URL = "/api/v1/strategies"
ITEM = URL + "/{id}"
WRITES = [("POST", URL), ("PUT", ITEM), ("PATCH", ITEM)]


def valid(**changes) -> dict:
    return {**load_example("sma_cross"), "name": "hostile", **changes}


def with_params(**params) -> dict:
    return valid(params={"fast": 10, "slow": 20, **params})


def raw(text: str | bytes, content_type: str = "application/json") -> dict:
    return {"data": text, "content_type": content_type}


BODIES = [
    pytest.param(raw("{"), 400, id="malformed-json"),
    pytest.param(raw(""), 400, id="empty-json-body"),
    pytest.param(raw(b'{"name": "\xff\xfe"}'), 400, id="invalid-utf8"),
    pytest.param(raw("[" * 5000 + "]" * 5000), 400, id="nested-beyond-the-parser"),
    pytest.param({"json": {"a": json.loads("[" * 40 + "]" * 40)}}, 400, id="nested-beyond-the-cap"),
    pytest.param(raw("name=x", "application/x-www-form-urlencoded"), 415, id="form-encoded"),
    pytest.param(raw(json.dumps(valid()), "text/plain"), 415, id="json-as-text-plain"),
    pytest.param({"data": json.dumps(valid())}, 415, id="no-content-type"),
    pytest.param(raw(" " * (70 * 1024) + "{}"), 413, id="larger-than-a-spec-may-be"),
    pytest.param({"json": []}, 422, id="array"),
    pytest.param({"json": "name"}, 422, id="string"),
    pytest.param(raw("null"), 422, id="null"),
    pytest.param({"json": 42}, 422, id="number"),
    pytest.param({"json": {"$gt": ""}}, 422, id="operator-at-top-level"),
    pytest.param({"json": valid(name={"$gt": ""})}, 422, id="operator-as-name"),
    pytest.param({"json": valid(symbols={"$ne": None})}, 422, id="operator-as-symbols"),
    pytest.param({"json": valid(rules={"$where": "1"})}, 422, id="operator-in-rules"),
    pytest.param({"json": valid(**{"$set": {"version": 99}})}, 422, id="update-operator"),
    pytest.param({"json": valid(name=5)}, 422, id="name-not-a-string"),
    pytest.param({"json": valid(symbols="BTCUSDT")}, 422, id="symbols-not-an-array"),
    pytest.param({"json": valid(rules=["enter_long"])}, 422, id="rules-not-an-object"),
    pytest.param({"json": valid(extra=True)}, 422, id="unknown-field"),
    pytest.param({"json": valid(id="0" * 24, version=7)}, 422, id="bookkeeping-fields"),
    pytest.param({"json": valid(name="x" * 10_000)}, 422, id="very-long-name"),
    pytest.param(raw(json.dumps(valid()).replace('"fast": 10', '"fast": NaN')), 422, id="nan"),
    pytest.param(raw(json.dumps(valid()).replace('"fast": 10', '"fast": Infinity')), 422, id="infinity"),
    pytest.param({"json": with_params(unused=10**30)}, 422, id="integer-beyond-64-bits"),
    pytest.param({"json": with_params(fast=2**40)}, 422, id="indicator-period-beyond-ta-lib"),
    pytest.param({"json": valid(description="\ud800")}, 422, id="unpaired-surrogate"),
    pytest.param({"json": valid(rules={"enter_long": "close > sma(10))"})}, 422, id="broken-rule"),
    pytest.param({"json": valid(indicators={"x": {"function": "__import__('os')"}})}, 422, id="code-as-function"),
]

QUERIES = [
    pytest.param("page=0", id="page-zero"),
    pytest.param("page=-1", id="negative-page"),
    pytest.param("page=abc", id="page-not-a-number"),
    pytest.param("page=1.5", id="fractional-page"),
    pytest.param("page=" + "9" * 30, id="page-beyond-64-bits"),
    pytest.param("per_page=101", id="per-page-over-100"),
    pytest.param("per_page=0", id="per-page-zero"),
    pytest.param("name=", id="empty-name"),
    pytest.param("name=a%00b", id="nul-in-name"),
    pytest.param("name=" + "x" * 500, id="very-long-name"),
    pytest.param("name[$gt]=", id="operator-as-parameter"),
    pytest.param("name[$regex]=.*", id="regex-operator-as-parameter"),
    pytest.param("sort=name", id="unknown-parameter"),
]

BAD_IDS = ["nope", "0" * 24, "%24gt", "%7B%22%24gt%22%3A%22%22%7D", "x" * 2000, "%C3%BC", "null", "..%2F..%2Fetc"]


@pytest.fixture
def existing(client, auth_headers):
    return client.post(URL, json=load_example("rsi_mean_reversion"), headers=auth_headers).json


def assert_json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json
    body = response.json
    assert body["code"] == status and body["status"] and isinstance(body["message"], str)
    assert "Traceback" not in response.get_data(as_text=True)


def assert_nothing_written(db, existing):
    documents = list(db[STRATEGIES].find())
    assert [d["name"] for d in documents] == [existing["name"]] and documents[0]["version"] == 1


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(("kwargs", "status"), BODIES)
def test_a_hostile_body_is_a_json_4xx_and_writes_nothing(
    client, auth_headers, db, existing, method, path, kwargs, status
):
    response = client.open(path.format(id=existing["id"]), method=method, headers=auth_headers, **kwargs)
    assert_json_error(response, status)
    assert_nothing_written(db, existing)


@pytest.mark.parametrize("query", QUERIES)
def test_a_hostile_query_string_is_a_422(client, auth_headers, query):
    response = client.get(f"{URL}?{query}", headers=auth_headers)
    assert_json_error(response, 422)
    assert response.json["errors"]["query"]


def test_an_operator_looking_name_filter_is_taken_literally(client, auth_headers, existing):
    response = client.get(f"{URL}?name=%24gt", headers=auth_headers)
    assert response.status_code == 200 and response.json["total"] == 0
    response = client.get(f"{URL}?name=.*", headers=auth_headers)
    assert response.status_code == 200 and response.json["total"] == 0


@pytest.mark.parametrize("strategy_id", BAD_IDS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_or_malformed_id_is_a_json_404(client, auth_headers, db, existing, method, strategy_id):
    body = {"json": valid()} if method == "PUT" else {"json": {"params": {"fast": 5}}} if method == "PATCH" else {}
    response = client.open(f"{URL}/{strategy_id}", method=method, headers=auth_headers, **body)
    assert_json_error(response, 404)
    assert_nothing_written(db, existing)


@pytest.mark.parametrize("if_match", ['"abc"', 'W/"1"', '"1", "2"', '"99999999999999999999999"', "garbage"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_if_match_naming_no_version_is_a_412(client, auth_headers, db, existing, method, if_match):
    body = valid(name=existing["name"]) if method == "PUT" else {"params": {"period": 10}}
    response = client.open(
        ITEM.format(id=existing["id"]), method=method, json=body, headers={**auth_headers, "If-Match": if_match}
    )
    assert_json_error(response, 412)
    assert_nothing_written(db, existing)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", URL),
        ("PUT", URL),
        ("PATCH", URL),
        ("POST", ITEM),
        ("POST", "/api/v1/health"),
        ("DELETE", "/api/v1/openapi.json"),
    ],
)
def test_a_method_a_route_does_not_have_is_a_json_405_with_allow(client, auth_headers, existing, method, path):
    response = client.open(path.format(id=existing["id"]), method=method, headers=auth_headers, json={})
    assert_json_error(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/strategies", "/", "/static/x.js", f"{URL}/a/b"])
def test_an_unknown_path_is_a_json_404(client, auth_headers, path):
    assert_json_error(client.get(path, headers=auth_headers), 404)
