"""``POST /api/v1/candles/{symbol}/{timeframe}/download``: the history download as a background job on a worker,
against the local venue's klines, with its progress on the live stream and in ``GET`` of the same URL."""

from __future__ import annotations

import json

import pytest

from tests.celery_workers import CeleryWorker, discard_broker_messages, wait_for
from tests.exchange.conftest import N
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore

URL = "/api/v1/candles/BTCUSDT/1m/download"
RANGE = {"since": "2024-01-01", "until": "2024-01-03T02:00:00Z"}


@pytest.fixture
def worker(klines, venue, tmp_path):
    """A backtest worker (the queue downloads run on) pointed at the local venue."""
    started = CeleryWorker(tmp_path, "downloads", "backtests", env={"TICKFLOW_EXCHANGE_URL": venue.url})
    yield started
    started.kill()
    discard_broker_messages()


def finished(client, auth_headers, url: str = URL) -> dict:
    def ended() -> dict | None:
        doc = client.get(url, headers=auth_headers).json
        return doc if doc["state"] in ("done", "failed") else None

    return wait_for(ended, 60, "the download to end")


def download_events(redis) -> list[dict]:
    found = [json.loads(fields["data"]) for _, fields in redis.xrange(keys.live_events()) if fields["type"] == "job"]
    return [event for event in found if event["kind"] == "download"]


def test_a_download_job_stores_the_venues_candles_and_reports_its_progress_on_the_stream(
    client, auth_headers, klines, worker, db, redis
):
    klines()
    queued = client.post(URL, json=RANGE, headers=auth_headers)
    assert queued.status_code == 202 and queued.json["state"] == "queued"
    assert (queued.json["symbol"], queued.json["exchange"]) == ("BTCUSDT", "binance")
    done = finished(client, auth_headers)
    assert done["state"] == "done" and done["id"] == queued.json["id"]
    assert done["report"]["fetched"] == done["report"]["inserted"] == N and done["report"]["gaps"] == []
    assert (done["done"], done["total"]) == (N, N)
    assert len(CandleStore(db).load("BTCUSDT", "1m")) == N
    events = download_events(redis)
    assert events[0]["stage"] == "downloading" and events[-1]["stage"] == "finished"
    assert events[-1]["state"] == "done" and events[-1]["chunks_done"] == N

    again = client.post(URL, json=RANGE, headers=auth_headers)  # nothing missing: a job that fetches nothing
    assert again.status_code == 202
    assert finished(client, auth_headers)["report"]["already_present"] == N


def test_a_download_the_venue_cannot_serve_fails_with_the_reason(client, auth_headers, klines, worker):
    klines()
    url = "/api/v1/candles/ETHUSDT/1m/download"  # not listed on the venue
    assert client.post(url, json=RANGE, headers=auth_headers).status_code == 202
    failed = finished(client, auth_headers, url)
    assert failed["state"] == "failed" and "ETHUSDT" in failed["error"]


def test_a_second_download_of_a_series_waits_for_the_first_with_a_409(client, auth_headers, klines):
    first = client.post(URL, json=RANGE, headers=auth_headers)  # no worker: it stays queued
    try:
        second = client.post(URL, json=RANGE, headers=auth_headers)
        assert second.status_code == 409 and first.json["id"] in second.json["message"]
        assert client.get(URL, headers=auth_headers).json["state"] == "queued"
    finally:
        discard_broker_messages()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (URL, {}, "since"),
        (URL, {"since": "yesterday"}, "since"),
        (URL, {"since": "2024-01-02", "until": "2024-01-01"}, "until"),
        ("/api/v1/candles/BTC$USDT/1m/download", RANGE, "symbol"),
        ("/api/v1/candles/BTCUSDT/7m/download", RANGE, "timeframe"),
    ],
)
def test_a_bad_download_request_is_a_422_naming_the_field(client, auth_headers, db, url, body, field):
    answer = client.post(url, json=body, headers=auth_headers)
    assert answer.status_code == 422 and field in json.dumps(answer.json["errors"])
    assert db.candle_downloads.count_documents({}) == 0


def test_a_series_never_downloaded_is_a_404(client, auth_headers, db):
    assert client.get(URL, headers=auth_headers).status_code == 404
