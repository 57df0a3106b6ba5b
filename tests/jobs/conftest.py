"""Real Celery workers (subprocesses) on the test Redis and MongoDB, and the data backtests need.

A worker here is ``python -m celery -A tasks worker -Q backtests -c 2``
started with the test environment, exactly as production runs it, so tests
can SIGKILL its pool processes or the whole worker. Modules that need one
share a module-scoped worker; only one worker consumes the queue at a time,
so a test knows which worker runs its task. Tests that crash workers start
their own.

The broker is never emptied: a producer that declared its queue once would
not declare it again, and its messages would go nowhere. Messages left over
from earlier tests or sessions name runs that no longer exist, and workers
skip them.

Stage delays (``TICKFLOW_TEST_STAGE_DELAY_S``, honoured only when
``TICKFLOW_ENV=test``) slow a worker's runs down enough to cancel or kill
them in the middle; nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import pytest

from backtests.runs import STAGE_DELAY_ENV
from strategies.examples import load_example
from tasks.celery_app import app as celery_app
from tests.conftest import ROOT
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy, StrategyRepository
from tickflow.synthetic import generate_candles

T = TypeVar("T")

SYMBOL = "BTCUSDT"
TIMEFRAME = "1h"
BARS = 2_000
_worker_numbers = count(1)


def wait_for(check: Callable[[], T], timeout: float = 30, what: str = "condition", every: float = 0.05) -> T:
    """``check()``'s first truthy value, polled until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Worker:
    """A ``celery worker`` subprocess in its own process group, with its log in a file."""

    def __init__(self, log_dir: Path, app_module: str = "tasks", stage_delay: float = 0.0) -> None:
        self.hostname = f"jobs{next(_worker_numbers)}-{os.getpid()}@tests"
        self.log_path = log_dir / f"{self.hostname.split('@')[0]}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        env[STAGE_DELAY_ENV] = str(stage_delay)
        command = [sys.executable, "-m", "celery", "-A", app_module, "worker", "-Q", "backtests", "-c", "2",
                   "-P", "prefork", "--hostname", self.hostname, "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "--loglevel", "INFO"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            wait_for(self._answers_ping, 60, f"worker {self.hostname} to start", every=0.2)
        except AssertionError:
            self.kill()
            raise AssertionError(f"worker {self.hostname} did not start:\n{self.tail()}") from None

    def _answers_ping(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.hostname} exited with {self.process.returncode}:\n{self.tail()}")
        return bool(celery_app.control.ping(destination=[self.hostname], timeout=0.5))

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and every pool process, with no chance to clean up."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)



@pytest.fixture
def start_worker(services, tmp_path_factory) -> Iterator[Callable[..., Worker]]:
    """Start workers for one test (``start_worker(stage_delay=1.0)``); all are stopped after it."""
    started: list[Worker] = []
    log_dir = tmp_path_factory.mktemp("workers")

    def start(**options: Any) -> Worker:
        worker = Worker(log_dir, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture(scope="module")
def worker(services, tmp_path_factory) -> Iterator[Worker]:
    """One worker shared by a module's tests."""
    shared = Worker(tmp_path_factory.mktemp("workers"))
    yield shared
    shared.kill()  # idle by then; a warm shutdown would only take longer


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
