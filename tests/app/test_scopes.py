"""Token scopes: read < trade < admin, enforced on every endpoint by rule (docs/api.md, "Scopes")."""

import re

import pytest

from app.access import required_scope
from strategies.examples import load_example

STRATEGIES = "/api/v1/strategies"


@pytest.fixture
def strategy_id(client, auth_headers):
    response = client.post(STRATEGIES, json={**load_example("sma_cross"), "name": "scoped"}, headers=auth_headers)
    assert response.status_code == 201
    return response.json["id"]


def assert_forbidden(response, needed: str, token: str, held: str) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json["code"] == 403
    assert response.json["message"] == f"This needs the '{needed}' scope; the token '{token}' has '{held}'."


def test_a_read_token_is_refused_a_start_with_a_403_naming_the_trade_scope(client, headers_for, strategy_id, redis):
    response = client.post(f"{STRATEGIES}/{strategy_id}/start", json={}, headers=headers_for("read", "ui"))
    assert_forbidden(response, "trade", "ui", "read")
    assert redis.keys("tf:live:*") == []


def test_a_read_token_reads_validates_specs_and_gets_stream_tickets(client, headers_for, strategy_id):
    read = headers_for("read")
    assert client.get(STRATEGIES, headers=read).status_code == 200
    assert client.get(f"{STRATEGIES}/{strategy_id}", headers=read).status_code == 200
    assert client.post(f"{STRATEGIES}/validate", json=load_example("sma_cross"), headers=read).status_code == 200
    assert client.post("/api/v1/live/stream/ticket", headers=read).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", STRATEGIES), ("PUT", f"{STRATEGIES}/{{sid}}"), ("PATCH", f"{STRATEGIES}/{{sid}}"),
     ("POST", f"{STRATEGIES}/{{sid}}/stop"), ("POST", "/api/v1/backtests"), ("POST", "/api/v1/sweeps")],
)  # fmt: skip
def test_a_read_token_is_refused_every_trading_write(client, headers_for, strategy_id, method, path):
    response = client.open(path.format(sid=strategy_id), method=method, json={}, headers=headers_for("read"))
    assert_forbidden(response, "trade", "read", "read")


def test_a_trade_token_writes_strategies_and_launches_backtests(client, headers_for, strategy_id):
    trade = headers_for("trade")
    body = {**load_example("sma_cross"), "name": "by a bot"}
    assert client.post(STRATEGIES, json=body, headers=trade).status_code == 201
    assert client.post("/api/v1/backtests", json={"strategy_id": strategy_id}, headers=trade).status_code == 202


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"{STRATEGIES}/{{sid}}"),
        ("DELETE", "/api/v1/backtests/0123456789abcdef01234567"),
        ("DELETE", "/api/v1/sweeps/0123456789abcdef01234567"),
        ("POST", "/api/v1/candles/BTCUSDT/1m"),
        ("GET", "/api/v1/audit"),
    ],
)
def test_a_trade_token_is_refused_deletes_candle_writes_and_the_audit_trail(
    client, headers_for, strategy_id, method, path
):
    response = client.open(path.format(sid=strategy_id), method=method, headers=headers_for("trade", "bot"))
    assert_forbidden(response, "admin", "bot", "trade")
    assert client.get(f"{STRATEGIES}/{strategy_id}", headers=headers_for("read")).status_code == 200


def test_an_admin_token_deletes(client, headers_for, strategy_id):
    assert client.delete(f"{STRATEGIES}/{strategy_id}", headers=headers_for("admin")).status_code == 204


def _url(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "BTCUSDT" if m[1] == "symbol" else "1m" if m[1] == "timeframe"
                  else "0123456789abcdef01234567", rule.rule)  # fmt: skip


def test_every_write_endpoint_refuses_a_read_token_unless_it_only_reads(app, client, headers_for):
    """Protection by default: any endpoint added later is covered without anyone listing it."""
    read = headers_for("read")
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method, json={}, headers=read)
            if rule.endpoint in ("strategies.StrategyValidation", "stream.Ticket"):
                assert response.status_code != 403, rule.rule
            else:
                assert response.status_code == 403, f"{method} {rule.rule}: {response.status_code}"
            checked += 1
    assert checked >= 12


@pytest.mark.parametrize(
    ("method", "endpoint", "blueprint", "scope"),
    [
        ("POST", "live.Halt", "live", "trade"),  # halt and resume, whatever their views are called
        ("POST", "live.Resume", "live", "trade"),
        ("POST", "anything.New", "anything", "trade"),
        ("PUT", "anything.New", "anything", "trade"),
        ("DELETE", "anything.New", "anything", "admin"),
        ("GET", "anything.New", "anything", "read"),
        ("POST", "tokens.Tokens", "tokens", "admin"),
        ("GET", "tokens.Tokens", "tokens", "admin"),
    ],
)
def test_a_new_endpoint_gets_its_scope_by_rule(method, endpoint, blueprint, scope):
    assert required_scope(method, endpoint, blueprint) == scope


def test_me_shows_the_tokens_scopes_and_expiry(client, headers_for):
    me = client.get("/api/v1/me", headers=headers_for("trade", "bot")).json
    assert me["name"] == "bot" and me["scopes"] == ["read", "trade"] and me["expires_at"] is None
