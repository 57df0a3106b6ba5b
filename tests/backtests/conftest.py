"""Real Celery workers (subprocesses) on the test Redis and MongoDB, and the data backtests need.

A worker here is ``python -m celery -A tests.backtests.stage_delay worker -Q backtests -c 2``
started with the test environment, exactly as production runs it, so tests
can SIGKILL its pool processes or the whole worker. Modules that need one
share a module-scoped worker; only one worker consumes the queue at a time,
so a test knows which worker runs its task. Tests that crash workers start
their own.

The broker is never emptied: a producer that declared its queue once would
not declare it again, and its messages would go nowhere. Messages left over
from earlier tests or sessions name runs that no longer exist, and workers
skip them.

Workers run the test apps (``tests.backtests.stage_delay`` and its variants): the
production app, whose stages can be slowed down (``stage_delay``) enough to
cancel or kill a run in the middle; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from strategies.examples import load_example
from tests.backtests.stage_delay import STAGE_DELAY_ENV
from tests.celery_workers import CeleryWorker, discard_broker_messages, started_workers, wait_for  # noqa: F401  (wait_for: for the test modules)
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy, StrategyRepository
from tickflow.synthetic import generate_candles

SYMBOL = "BTCUSDT"
TIMEFRAME = "1h"
BARS = 2_000


def new_backtest_worker(
    log_dir: Path, app_module: str = "tests.backtests.stage_delay", stage_delay: float = 0.0
) -> CeleryWorker:
    """A backtest worker (queue ``backtests``); ``stage_delay`` seconds of pause after each job stage."""
    return CeleryWorker(log_dir, "jobs", "backtests", app_module, env={STAGE_DELAY_ENV: str(stage_delay)})


@pytest.fixture
def start_worker(services, tmp_path_factory) -> Iterator[Callable[..., CeleryWorker]]:
    """Start workers for one test (``start_worker(stage_delay=1.0)``); all are stopped after it."""
    yield from started_workers(new_backtest_worker, tmp_path_factory.mktemp("workers"))


@pytest.fixture(scope="module")
def worker(services, tmp_path_factory) -> Iterator[CeleryWorker]:
    """One worker shared by a module's tests."""
    shared = new_backtest_worker(tmp_path_factory.mktemp("workers"))
    yield shared
    shared.kill()  # idle by then; a warm shutdown would only take longer
    discard_broker_messages()


@pytest.fixture
def candles(db):
    """``BARS`` hourly synthetic candles of ``SYMBOL``, stored."""
    series = generate_candles(BARS, TIMEFRAME, seed=3)
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, series)
    return series


@pytest.fixture
def strategy(db, redis) -> Strategy:
    """The SMA-cross example (hourly, on ``SYMBOL``), stored."""
    return StrategyRepository(db, redis).create(load_example("sma_cross"))


@pytest.fixture
def submit_sweep(client, auth_headers):
    """``submit_sweep(**body)``: POST a sweep request, check the status (202 unless ``expect``), return the body."""

    def send(expect: int = 202, **body) -> dict:
        response = client.post("/api/v1/sweeps", json=body, headers=auth_headers)
        assert response.status_code == expect, response.json
        return response.json

    return send


@pytest.fixture
def api(client, auth_headers):
    """``api("post", path, json=...)`` answering the JSON body, after checking the status."""

    def call(method: str, path: str, expect: int = 200, **options) -> dict:
        response = getattr(client, method)(path, headers=auth_headers, **options)
        assert response.status_code == expect, response.json
        return response.json

    return call


def every_item(client, auth_headers, url: str, per_page: int) -> list[dict]:
    """Every item of a paged listing (``url`` without its query), page after page."""
    items, page = [], 1
    while True:
        body = client.get(f"{url}?page={page}&per_page={per_page}", headers=auth_headers).json
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1
