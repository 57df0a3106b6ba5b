"""Errors that no well-formed request triggers still come out as JSON in the one shape."""

from dataclasses import replace

import pytest
import redis as redis_lib
from flask import request

from app import create_app
from tickflow.settings import get_settings


@pytest.fixture
def failing_app(db, redis):
    """An app with routes that fail the ways a bug or an outage would."""
    app = create_app()

    def crash():
        raise KeyError("internal detail: secret_column")

    def redis_down():
        raise redis_lib.ConnectionError("Error 111 connecting to 10.0.0.7:6379")

    app.add_url_rule("/api/v1/crash", view_func=crash)
    app.add_url_rule("/api/v1/redis-down", view_func=redis_down)
    return app


def test_an_unexpected_exception_is_logged_and_a_json_500_without_internals(failing_app, auth_headers, caplog):
    response = failing_app.test_client().get("/api/v1/crash", headers=auth_headers)
    assert response.status_code == 500
    assert response.json["code"] == 500 and response.json["status"] == "Internal Server Error"
    assert "secret_column" not in response.get_data(as_text=True)
    assert "secret_column" in caplog.text


def test_an_unreachable_storage_service_is_a_json_503_without_internals(failing_app, auth_headers):
    response = failing_app.test_client().get("/api/v1/redis-down", headers=auth_headers)
    assert response.status_code == 503 and response.json["code"] == 503
    assert "10.0.0.7" not in response.get_data(as_text=True)


def test_a_body_over_the_upload_limit_from_the_settings_is_a_json_413(db, redis, auth_headers):
    app = create_app(replace(get_settings(), max_upload_mb=1))
    app.add_url_rule("/api/v1/upload", methods=["POST"], view_func=lambda: {"size": len(request.get_data())})
    client = app.test_client()
    response = client.post("/api/v1/upload", data=b"x" * (2 * 1024 * 1024), headers=auth_headers)
    assert response.status_code == 413 and response.json["code"] == 413
    assert client.post("/api/v1/upload", data=b"x" * 1000, headers=auth_headers).json == {"size": 1000}
