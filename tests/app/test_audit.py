"""The audit trail: every write made with a token is logged naming the token and kept in ``audit``,
which ``GET /api/v1/audit`` lists to admin tokens only."""

from datetime import UTC, datetime, timedelta

import pytest

from strategies.examples import load_example
from tests.ops.test_logs import parse_logfmt
from tickflow.logs import configure
from tickflow.storage.schema import AUDIT

AUDIT_URL = "/api/v1/audit"


def create_strategy(client, headers, name="audited"):
    return client.post("/api/v1/strategies", json={**load_example("sma_cross"), "name": name}, headers=headers)


def test_a_write_is_kept_with_its_token_method_path_status_target_and_time(client, headers_for):
    before = datetime.now(UTC) - timedelta(seconds=1)
    created = create_strategy(client, headers_for("trade", "bot"))
    [entry] = client.get(AUDIT_URL, headers=headers_for("admin")).json["items"]
    assert entry["token"] == "bot" and entry["method"] == "POST" and entry["path"] == "/api/v1/strategies"
    assert entry["status"] == 201 and entry["target_id"] == created.json["id"]
    assert entry["address"] == "127.0.0.1" and entry["token_id"]
    assert before <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)


def test_refused_writes_are_kept_and_reads_are_not(client, headers_for, db):
    sid = create_strategy(client, headers_for("admin", "owner")).json["id"]
    read = headers_for("read", "viewer")
    client.get(f"/api/v1/strategies/{sid}", headers=read)
    client.post("/api/v1/strategies/validate", json=load_example("sma_cross"), headers=read)
    client.delete(f"/api/v1/strategies/{sid}", headers=read)
    client.post("/api/v1/strategies", json={}, headers={"Authorization": "Bearer tf_unknown"})  # no token: no entry
    entries = list(db[AUDIT].find({}, {"_id": 0}).sort("at", 1))
    assert [(e["token"], e["method"], e["status"], e["target_id"]) for e in entries] == [
        ("owner", "POST", 201, sid), ("viewer", "DELETE", 403, sid),
    ]  # fmt: skip


def test_a_candle_write_names_its_symbol_and_timeframe(client, headers_for):
    admin = headers_for("admin")
    csv = "timestamp,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n"
    response = client.post("/api/v1/candles/BTCUSDT/1m", data=csv, headers={**admin, "Content-Type": "text/csv"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert client.get(AUDIT_URL, headers=admin).json["items"][0]["target_id"] == "BTCUSDT/1m"


@pytest.mark.parametrize("scope", ["read", "trade"])
def test_only_an_admin_token_reads_the_audit_trail(client, headers_for, scope):
    response = client.get(AUDIT_URL, headers=headers_for(scope))
    assert response.status_code == 403 and "'admin'" in response.json["message"]


def test_the_trail_is_newest_first_paged_and_filtered_by_token_and_time(client, headers_for, db):
    admin, bot = headers_for("admin", "owner"), headers_for("trade", "bot")
    for n in range(3):
        create_strategy(client, bot, f"s{n}")
    create_strategy(client, admin, "mine")
    page = client.get(f"{AUDIT_URL}?per_page=2", headers=admin).json
    assert page["total"] == 4 and page["pages"] == 2 and len(page["items"]) == 2
    assert page["items"][0]["token"] == "owner"
    assert client.get(f"{AUDIT_URL}?token=bot", headers=admin).json["total"] == 3
    newest = db[AUDIT].find_one(sort=[("at", -1)])["at"]
    since = int(newest.timestamp() * 1000)
    assert client.get(f"{AUDIT_URL}?start={since}", headers=admin).json["total"] >= 1
    assert client.get(f"{AUDIT_URL}?end=2000-01-01", headers=admin).json["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=0", "page"), ("per_page=101", "per_page"), ("start=0001-01-01", "start"), ("start=10&end=5", "end"),
     ("token=", "token"), ("colour=red", "colour")],
)  # fmt: skip
def test_audit_queries_out_of_bounds_are_a_422_at_the_field(client, auth_headers, query, field):
    response = client.get(f"{AUDIT_URL}?{query}", headers=auth_headers)
    assert response.status_code == 422 and field in response.json["errors"]["query"]


def test_the_audit_trail_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert "AuditPage" in doc["components"]["schemas"]
    assert "/api/v1/audit" in doc["paths"]


def test_a_writes_log_line_names_its_token(app, client, headers_for, tmp_path):
    path = tmp_path / "api.log"
    configure("api", logfile=str(path))
    try:
        create_strategy(client, headers_for("trade", "bot"))
    finally:
        configure("tests")
    lines = [parse_logfmt(line) for line in path.read_text().splitlines()]
    [line] = [line for line in lines if line["logger"] == "app.audit_trail"]
    assert line["token"] == "bot" and line["msg"] == "POST /api/v1/strategies 201" and line["target_id"]
