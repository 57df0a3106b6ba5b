from dataclasses import replace

import pytest
from celery.contrib.testing.worker import start_worker

from app import create_app
from tasks.celery_app import app as celery_app
from tests.celery_workers import wait_for
from tickflow.settings import get_settings

URL = "/api/v1/health"


def health_of(**settings):
    app = create_app(replace(get_settings(), **settings))
    try:
        return app.test_client().get(URL)
    finally:
        app.extensions["tickflow_health"].stop()


def test_health_is_ok_when_redis_mongodb_and_a_celery_worker_answer(client):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["redis"]["state"] == "up" and body["redis"]["latency_ms"] >= 0
    assert body["mongodb"]["state"] == "up" and body["mongodb"]["latency_ms"] >= 0
    assert body["celery"]["state"] == "up" and len(body["celery"]["workers"]) == 1


def test_without_celery_workers_health_is_degraded_but_200(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert (response.json["celery"]["state"], response.json["celery"]["workers"]) == ("down", [])
    assert response.json["redis"]["state"] == response.json["mongodb"]["state"] == "up"


def test_an_unreachable_redis_makes_health_503_quickly(db, redis):
    response = health_of(redis_url="redis://127.0.0.1:1/0", celery_broker_url="redis://127.0.0.1:1/1")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["redis"]["state"] == "down" and "latency_ms" not in response.json["redis"]
    assert response.json["celery"]["state"] == "down"
    assert response.json["mongodb"]["state"] == "up"


def test_an_unreachable_mongodb_makes_health_503_without_naming_hosts(db, redis):
    response = health_of(mongo_uri="mongodb://127.0.0.1:1/tickflow?directConnection=true")
    assert response.status_code == 503
    assert response.json["mongodb"]["state"] == "down"
    assert "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.timeout(10)
def test_health_answers_within_seconds_even_with_everything_down(db, redis):
    response = health_of(
        redis_url="redis://127.0.0.1:1/0",
        celery_broker_url="redis://127.0.0.1:1/1",
        mongo_uri="mongodb://127.0.0.1:1/tickflow?directConnection=true",
    )
    assert response.status_code == 503 and response.json["status"] == "degraded"


def test_each_part_says_how_old_its_probe_is(client):
    body = client.get(URL).json
    for part in ("redis", "mongodb", "celery"):
        assert 0 <= body[part]["age_s"] < 30


def test_a_worker_that_starts_shows_up_at_a_later_background_probe_without_a_request_probing(client):
    assert client.get(URL).json["celery"]["state"] == "down"
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        body = wait_for(lambda: (b := client.get(URL).json)["celery"]["state"] == "up" and b, 30, "the worker to show")
    assert body["status"] == "ok" and len(body["celery"]["workers"]) == 1


def test_liveness_answers_without_probing_anything(db, redis):
    app = create_app(replace(get_settings(), redis_url="redis://127.0.0.1:1/0", mongo_uri="mongodb://127.0.0.1:1/x"))
    response = app.test_client().get(URL + "/live")
    assert (response.status_code, response.json) == (200, {"status": "alive"})
    assert "tickflow_health" not in app.extensions


def test_a_stale_live_symbol_makes_health_degraded_and_names_it(db, redis):
    from strategies.examples import load_example
    from tickflow.settings import live_settings
    from tickflow.storage import keys
    from tickflow.storage.strategies import StrategyRepository
    from workers.engine import LiveEngine

    strategy = StrategyRepository(db, redis).create({**load_example("sma_cross"), "timeframe": "1m"})
    LiveEngine(redis, db, live_settings()).start(strategy.id, "paper", 1_000.0)
    redis.hset(keys.last_tick("BTCUSDT"), mapping={"ts": 1_700_000_000_000, "p": 100.0, "q": 1})
    response = health_of()
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["feed"]["state"] == "down" and response.json["feed"]["stale"] == ["BTCUSDT"]
