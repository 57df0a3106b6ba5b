"""Live-engine fixtures: Celery worker subprocesses on the live queues, a strategy factory, replays.

Workers run ``python -m celery -A tests.workers.live_app worker -Q ingest,strategy,orders
-c 2 -P prefork`` with the test environment, as the Procfile runs them, so tests can
SIGKILL them. A module shares one worker; tests that kill workers or need their own
MongoDB start theirs with ``start_worker``, possibly on another test app
(``tests.workers.slow_execute_app``: ``execute`` sleeps before it starts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from cli.venue import LocalVenue
from strategies.candles import Candles
from strategies.examples import load_example
from strategies.spec import validate_spec
from tasks.celery_app import app as celery_app
from tests.celery_workers import CeleryWorker, discard_broker_messages, started_workers, wait_for  # noqa: F401  (wait_for: for the test modules)
from tests.exchange.conftest import API_KEY, API_SECRET, local_venue  # noqa: F401 (a fixture)
from tests.workers.replay import backtest_trades
from tickflow.settings import LiveSettings, get_settings
from tickflow.storage import keys
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles
from workers import broker as brokers
from workers.engine import LiveEngine

SYMBOL = "BTCUSDT"
TIMEFRAME = "1m"
LIVE_QUEUES = "ingest,strategy,orders"
_beat_schedules = count(1)


def new_live_worker(
    log_dir: Path, env: dict[str, str] | None = None, beat: bool = False, app_module: str = "tests.workers.live_app"
) -> CeleryWorker:
    """A live worker on the live queues, running a test app; with ``beat``, beat runs in it too."""
    extra = ["--beat", "--schedule", str(log_dir / f"beat-{next(_beat_schedules)}")] if beat else []
    return CeleryWorker(log_dir, "live", LIVE_QUEUES, app_module, env=env, extra_args=extra)


@pytest.fixture(scope="session")
def live_broker(services) -> None:
    """The broker database, emptied once per session before any live worker or producer connects."""
    redis_lib.Redis.from_url(get_settings().celery_broker_url).flushdb()


@pytest.fixture
def start_worker(live_broker, tmp_path_factory) -> Iterator[Callable[..., CeleryWorker]]:
    """Start live workers for one test; all are killed after it."""
    yield from started_workers(new_live_worker, tmp_path_factory.mktemp("live-workers"))


@pytest.fixture(scope="module")
def live_worker(live_broker, tmp_path_factory) -> Iterator[CeleryWorker]:
    """One live worker shared by a module's tests."""
    worker = new_live_worker(tmp_path_factory.mktemp("live-workers"))
    yield worker
    worker.kill()
    discard_broker_messages()


@pytest.fixture
def engine(db, redis) -> LiveEngine:
    """An engine in the test process, for starting strategies and reading state as the API does."""
    return LiveEngine(redis, db, LiveSettings())


@pytest.fixture
def venue(local_venue, redis, monkeypatch) -> Iterator[LocalVenue]:  # noqa: F811
    """A fresh venue the process's venue broker points at (``TICKFLOW_EXCHANGE_*``), nothing listed yet."""
    local_venue.reset()
    monkeypatch.setenv("TICKFLOW_EXCHANGE_URL", local_venue.url)
    monkeypatch.setenv("TICKFLOW_EXCHANGE_API_KEY", API_KEY)
    monkeypatch.setenv("TICKFLOW_EXCHANGE_API_SECRET", API_SECRET)
    brokers._venue_brokers.clear()
    yield local_venue
    brokers._venue_brokers.clear()


def list_venue(venue: LocalVenue, price: float) -> None:
    """BTCUSDT at ``price``, deep, with 1,000,000 USDT and no BTC on the account."""
    venue.symbol("BTCUSDT", "BTC", "USDT", price=price, depth=1_000_000, step="0.00001", min_qty="0.00001")
    venue.balance(USDT=1_000_000, BTC=0)


def live_events(redis, kind: str) -> list[dict]:
    """The data of every ``kind`` event on the live stream, oldest first."""
    return [json.loads(data["data"]) for _, data in redis.xrange(keys.live_events()) if data["type"] == kind]


def spec_doc(example: str, name: str | None = None, **changes: Any) -> dict:
    """An example strategy on ``SYMBOL`` and ``TIMEFRAME``, with top-level fields or params changed."""
    doc = load_example(example)
    doc.update(symbols=[SYMBOL], timeframe=TIMEFRAME, name=name or doc["name"])
    doc["params"].update(changes.pop("params", {}))
    doc.update(changes)
    return doc


def create_strategy(db, redis, doc: dict) -> str:
    return StrategyRepository(db, redis).create(doc).id


def trading_sma_cross(engine: LiveEngine, bars: int = 400) -> tuple[str, Candles, list[tuple]]:
    """``sma_cross`` stored and started paper trading 10,000 through ``engine``; its id, the candles a test
    replays (seed 7), and the closed trades a backtest makes on them."""
    doc = spec_doc("sma_cross")
    strategy_id = create_strategy(engine.db, engine.redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(bars, TIMEFRAME, seed=7)
    return strategy_id, candles, backtest_trades(validate_spec(doc), candles)


def send_ingest(payload: dict) -> None:
    celery_app.send_task("tasks.live.ingest", args=[payload], queue="ingest")
