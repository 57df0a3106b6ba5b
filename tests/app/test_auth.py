from dataclasses import replace

import pytest

from app import create_app
from tickflow.settings import get_settings
from tickflow.storage.connections import redis_client
from tickflow.storage.tokens import TokenRepository

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
