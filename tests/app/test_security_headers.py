"""Every response of the API and of the stream process carries the security headers, through HTTP.

Both run as the Procfile runs them (gunicorn; ``tickflow stream``) on free ports, over the
test Redis and MongoDB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from app.security_headers import SECURITY_HEADERS
from cli.localservices import ProcfileProcess, free_port
from tests.app.test_stream import ALLOWED_ORIGIN, STREAM, StreamServer, start_stream
from tests.conftest import ROOT
from tests.ops.test_deployment_files import PROCESSES

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


@pytest.fixture(scope="module")
def stream_server(services, tmp_path_factory) -> Iterator[StreamServer]:
    server, base = start_stream(tmp_path_factory.mktemp("stream") / "stream.log")
    yield StreamServer(base, server)
    server.stop()


@pytest.fixture(scope="module")
def api(services, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    env = {"API_PORT": str(port), "CORS_ORIGINS": ALLOWED_ORIGIN}
    server = ProcfileProcess(PROCESSES["api"], env, tmp_path_factory.mktemp("api") / "api.log", ROOT)
    base = f"http://127.0.0.1:{port}"
    server.wait_answering(f"{base}/api/v1/health")
    yield base
    server.stop()


def assert_secured(response: requests.Response) -> None:
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED, response.url


def test_the_headers_are_the_ones_documented():
    assert SECURITY_HEADERS == EXPECTED


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/health", 200),
        ("GET", "/api/v1/strategies", 401),
        ("GET", "/api/v1/no-such-thing", 404),
        ("POST", "/api/v1/health", 405),
        ("GET", "/api/v1/docs", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("OPTIONS", "/api/v1/strategies", 200),
    ],
)
def test_every_api_response_carries_the_security_headers(api, db, method, path, status):
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"} if method == "OPTIONS" else {}
    response = requests.request(method, f"{api}{path}", headers=headers, timeout=10)
    assert response.status_code == status
    assert_secured(response)


def test_every_stream_response_carries_the_security_headers_the_event_stream_too(stream_server, auth_headers):
    assert_secured(requests.get(f"{stream_server.url}{STREAM}/health", timeout=10))
    assert_secured(requests.get(f"{stream_server.url}{STREAM}", timeout=10))  # 401, no credentials
    with requests.get(f"{stream_server.url}{STREAM}", headers=auth_headers, stream=True, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert_secured(response)
