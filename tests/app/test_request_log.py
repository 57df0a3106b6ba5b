"""The API's access log: one line per request, in the platform's line format, naming what was asked,
the answer, how long it took and the token that asked."""

from tests.ops.test_logs import parse_logfmt
from tickflow.logs import configure


def access_lines(path):
    return [line for line in map(parse_logfmt, path.read_text().splitlines()) if line["logger"] == "app.access"]


def test_every_request_gets_one_access_line_with_its_status_size_time_and_token(app, client, headers_for, tmp_path):
    path = tmp_path / "api.log"
    configure("api", logfile=str(path))
    try:
        listed = client.get("/api/v1/strategies?per_page=5", headers=headers_for("read", "dashboard"))
        refused = client.get("/api/v1/strategies")
        client.get("/api/v1/health/live")
    finally:
        configure("tests")
    read, unauthorised, health = access_lines(path)
    assert read["msg"] == "GET /api/v1/strategies?per_page=5 200" and read["token"] == "dashboard"
    assert int(read["bytes"]) == len(listed.data) and float(read["ms"]) > 0 and read["addr"] == "127.0.0.1"
    assert unauthorised["msg"] == "GET /api/v1/strategies 401" and "token" not in unauthorised
    assert int(unauthorised["bytes"]) == len(refused.data)
    assert health["msg"] == "GET /api/v1/health/live 200"


def test_log_level_warning_drops_the_access_lines(app, client, auth_headers, tmp_path, monkeypatch):
    path = tmp_path / "api.log"
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    from tickflow.settings import get_settings

    get_settings.cache_clear()
    configure("api", logfile=str(path))
    try:
        client.get("/api/v1/strategies", headers=auth_headers)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        configure("tests")
    assert access_lines(path) == []
