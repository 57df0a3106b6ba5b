import time
from dataclasses import replace
from datetime import timedelta

import pytest

from app import create_app
from cli.main import main
from tickflow.settings import get_settings
from tickflow.storage.connections import redis_client
from tickflow.storage.lockout import FAILURES, LOCK_S
from tickflow.storage.schema import API_TOKENS, mongo_now
from tickflow.storage.tokens import TokenRepository, legacy_hash

URL = "/api/v1/strategies"


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json["code"] == 401 and "token" in response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_is_let_through(client, auth_headers):
    assert client.get(URL, headers=auth_headers).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "bearer",
        "Basic dXNlcjpwYXNz",
        "Token tf_abc",
        "Bearer tf_not-issued",
        "Bearer not-even-our-format",
        'Bearer {"$ne": ""}',
        "Bearer " + "x" * 10_000,
    ],
)
def test_a_missing_or_wrong_token_is_a_json_401(client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert_unauthorized(client.get(URL, headers=headers))


def test_a_revoked_token_is_a_401(client, db):
    tokens = TokenRepository(db, redis_client())
    token, _ = tokens.create("soon revoked")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=headers).status_code == 200
    tokens.revoke("soon revoked")
    assert_unauthorized(client.get(URL, headers=headers))


def test_the_bearer_scheme_is_case_insensitive(client, auth_headers):
    token = auth_headers["Authorization"].split()[1]
    assert client.get(URL, headers={"Authorization": f"bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", URL),
        ("GET", f"{URL}/0123456789abcdef01234567"),
        ("PUT", f"{URL}/x"),
        ("PATCH", f"{URL}/x"),
        ("DELETE", f"{URL}/x"),
        ("GET", "/api/v1/candles"),
    ],
)
def test_every_resource_endpoint_needs_a_token(client, method, path):
    assert_unauthorized(client.open(path, method=method, json={}))


@pytest.mark.parametrize(
    "path", ["/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/swagger-ui-bundle.js"]
)
def test_health_and_the_docs_need_no_token(client, path):
    assert client.get(path).status_code == 200


def test_an_allowed_origin_gets_cors_headers(client, auth_headers):
    response = client.get(URL, headers={**auth_headers, "Origin": "http://localhost:3000"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_a_disallowed_origin_gets_no_cors_headers(client, auth_headers):
    response = client.get(URL, headers={**auth_headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(client):
    response = client.options(
        f"{URL}/x",
        headers={
            "Origin": "http://127.0.0.1:3000",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}


def test_a_preflight_from_a_disallowed_origin_is_not_allowed(client):
    response = client.options(URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_allowed_origins_come_from_the_settings(db, redis):
    app = create_app(replace(get_settings(), cors_origins=("https://trading.example",)))
    response = app.test_client().get("/api/v1/openapi.json", headers={"Origin": "https://trading.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://trading.example"
    response = app.test_client().get("/api/v1/openapi.json", headers={"Origin": "http://localhost:3000"})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- expiry, keyed hashes, lockout ---------------------------------------------------------------


def test_an_expired_token_is_a_401_saying_it_expired(client, db):
    tokens = TokenRepository(db, redis_client())
    token, _ = tokens.create("short-lived", "read", mongo_now() + timedelta(seconds=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=headers).status_code == 200  # now cached in Redis too
    time.sleep(1.1)
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.json["message"].startswith("The token 'short-lived' expired at ")


def test_a_row_holding_a_plain_sha256_does_not_verify_even_marked_as_keyed(client, db):
    token = "tf_planted-by-someone-with-database-access"
    db[API_TOKENS].insert_one({"name": "planted", "token_hash": legacy_hash(token), "hash_scheme": "hmac-sha256",
                               "scopes": ["read", "trade", "admin"], "created_at": mongo_now()})  # fmt: skip
    assert_unauthorized(client.get(URL, headers={"Authorization": f"Bearer {token}"}))


def test_a_token_from_before_keyed_hashing_is_refused_until_migrated_and_then_keeps_admin(client, db, capsys):
    token = "tf_issued-before-the-upgrade"
    db[API_TOKENS].insert_one({"name": "old", "token_hash": legacy_hash(token), "created_at": mongo_now()})
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.get(URL, headers=headers)
    assert refused.status_code == 401 and "tickflow token migrate" in refused.json["message"]
    assert main(["token", "migrate"]) == 0
    assert "migrated token 'old'" in capsys.readouterr().out
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["scopes"] == ["read", "trade", "admin"]
    assert db[API_TOKENS].find_one({"name": "old"})["token_hash"] != legacy_hash(token)


def test_the_api_warns_at_start_of_tokens_not_yet_migrated(db, redis, caplog):
    db[API_TOKENS].insert_one({"name": "old", "token_hash": legacy_hash("tf_x"), "created_at": mongo_now()})
    create_app()
    assert "1 API token(s) (old) predate keyed hashing" in caplog.text


def test_20_failed_authentications_in_a_minute_lock_the_address_out_for_a_minute(client, auth_headers):
    for _ in range(FAILURES - 1):
        assert client.get(URL, headers={"Authorization": "Bearer tf_guess"}).status_code == 401
    assert client.get(URL, headers=auth_headers).status_code == 200  # 19 failures: not yet
    assert client.get(URL).status_code == 401
    locked = client.get(URL, headers=auth_headers)  # even with a valid token
    assert locked.status_code == 429 and locked.json["code"] == 429
    assert 0 < int(locked.headers["Retry-After"]) <= LOCK_S
    assert "try again in" in locked.json["message"]
    other = client.get(URL, headers=auth_headers, environ_overrides={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200  # another address is not locked out
    assert client.get("/api/v1/health/live").status_code == 200  # nor are the public endpoints


def test_scope_refusals_are_not_authentication_failures(client, headers_for):
    read = headers_for("read")
    for _ in range(FAILURES + 1):
        assert client.delete(f"{URL}/x", headers=read).status_code == 403
    assert client.get(URL, headers=read).status_code == 200
