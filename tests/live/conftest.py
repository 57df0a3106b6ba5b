"""Live-engine fixtures: Celery worker subprocesses on the live queues, a strategy factory, replays.

Workers run ``python -m celery -A tests.live.live_app worker -Q ingest,strategy,orders
-c 2 -P prefork`` with the test environment, as the Procfile runs them, so tests can
SIGKILL them. A module shares one worker; tests that kill workers or need their own
MongoDB start theirs with ``start_worker``. Test-only behaviour (``execute`` sleeping)
is switched on by environment variables, honoured only when ``TICKFLOW_ENV=test``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from strategies.examples import load_example
from tasks.celery_app import app as celery_app
from tests.conftest import ROOT
from tickflow.live.config import LiveSettings
from tickflow.live.engine import LiveEngine
from tickflow.settings import get_settings
from tickflow.storage.strategies import StrategyRepository

SYMBOL = "BTCUSDT"
TIMEFRAME = "1m"
LIVE_QUEUES = "ingest,strategy,orders"
_numbers = count(1)


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition", every: float = 0.05) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class LiveWorker:
    """A live ``celery worker`` subprocess in its own process group, logging to a file."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None, beat: bool = False) -> None:
        self.hostname = f"live{next(_numbers)}-{os.getpid()}@tests"
        self.log_path = log_dir / f"{self.hostname.split('@')[0]}.log"
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                                 os.environ.get("PYTHONPATH")]))}
        environment.update(env or {})
        command = [sys.executable, "-m", "celery", "-A", "tests.live.live_app", "worker", "-Q", LIVE_QUEUES,
                   "-c", "2", "-P", "prefork", "--hostname", self.hostname, "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "--loglevel", "INFO"]
        if beat:
            command += ["--beat", "--schedule", str(log_dir / f"{self.hostname.split('@')[0]}-beat")]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(self._answers_ping, 60, f"worker {self.hostname} to start", every=0.2)
        except AssertionError:
            self.kill()
            raise AssertionError(f"worker {self.hostname} did not start:\n{self.tail()}") from None

    def _answers_ping(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.hostname} exited with {self.process.returncode}:\n{self.tail()}")
        return bool(celery_app.control.ping(destination=[self.hostname], timeout=0.5))

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool alike."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_broker(services) -> None:
    """The broker database, emptied once per session before any live worker or producer connects."""
    redis_lib.Redis.from_url(get_settings().celery_broker_url).flushdb()


@pytest.fixture
def start_worker(live_broker, tmp_path_factory) -> Iterator[Callable[..., LiveWorker]]:
    """Start live workers for one test; all are killed after it."""
    started: list[LiveWorker] = []
    log_dir = tmp_path_factory.mktemp("live-workers")

    def start(**options: Any) -> LiveWorker:
        worker = LiveWorker(log_dir, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture(scope="module")
def live_worker(live_broker, tmp_path_factory) -> Iterator[LiveWorker]:
    """One live worker shared by a module's tests."""
    worker = LiveWorker(tmp_path_factory.mktemp("live-workers"))
    yield worker
    worker.kill()


@pytest.fixture
def engine(db, redis) -> LiveEngine:
    """An engine in the test process, for starting strategies and reading state as the API does."""
    return LiveEngine(redis, db, LiveSettings())


def spec_doc(example: str, name: str | None = None, **changes: Any) -> dict:
    """An example strategy on ``SYMBOL`` and ``TIMEFRAME``, with top-level fields or params changed."""
    doc = load_example(example)
    doc.update(symbols=[SYMBOL], timeframe=TIMEFRAME, name=name or doc["name"])
    doc["params"].update(changes.pop("params", {}))
    doc.update(changes)
    return doc


def create_strategy(db, redis, doc: dict) -> str:
    return StrategyRepository(db, redis).create(doc).id


def send_ingest(payload: dict) -> None:
    celery_app.send_task("tickflow.live.ingest", args=[payload], queue="ingest")
