"""Real Celery workers for tests: ``celery worker`` subprocesses that a test can SIGKILL.

Each runs in its own process group with the test environment and logs to a file, so a
failing test can show the worker's last lines.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from itertools import count
from pathlib import Path
from typing import TypeVar

from tasks.celery_app import app as celery_app
from tests.conftest import ROOT

T = TypeVar("T")
_numbers = count(1)


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


class CeleryWorker:
    """``celery -A app_module worker -Q queues -c 2 -P prefork``, as the Procfile runs workers (``-c concurrency``)."""

    def __init__(
        self,
        log_dir: Path,
        name: str,
        queues: str,
        app_module: str = "tasks",
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
        concurrency: int = 2,
        heartbeat: bool = False,
    ) -> None:
        self.hostname = f"{name}{next(_numbers)}-{os.getpid()}@tests"
        self.log_path = log_dir / f"{self.hostname.split('@')[0]}.log"
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        environment.update(env or {})
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app_module,
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            "prefork",
            "--hostname",
            self.hostname,
            "--without-gossip",
            "--without-mingle",
            *([] if heartbeat else ["--without-heartbeat"]),
            "--loglevel",
            "INFO",
            *extra_args,
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
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
        """SIGKILL the whole worker: the main process and every pool process, with no chance to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def discard_broker_messages() -> None:
    """Drop every message in the broker, queued or delivered and unacknowledged; keep the queue bindings.

    A killed worker leaves the message it was running unacknowledged, and the next worker
    to start would take it up: a chain of one test, say an ``execute`` killed after marking
    its close processed, would then run inside the next test and move its lockstep replay.
    Called once a test's workers are dead, so no test sees another's messages.
    """
    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        leftovers = [key for key in client.scan_iter(count=1000) if not key.startswith(b"_kombu.binding.")]
        if leftovers:
            client.delete(*leftovers)


def started_workers(new: Callable[..., CeleryWorker], log_dir: Path) -> Iterator[Callable[..., CeleryWorker]]:
    """Body of a ``start_worker`` fixture: yields ``start(**options)``; every worker it started is killed after,
    and the messages they left behind discarded."""
    started: list[CeleryWorker] = []

    def start(**options: object) -> CeleryWorker:
        worker = new(log_dir, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
    discard_broker_messages()
