"""The ``celery`` CLI operates TickFlow's workers from the repo root, as docs/operations.md says.

Each command runs as an operator would type it (``celery -A tasks ...`` in the checkout),
against a real worker subprocess on the test Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tasks.celery_app import app
from tests.celery_workers import CeleryWorker, wait_for
from tests.conftest import ROOT

QUEUE = "cli-test"
"""A queue of this test's own, so purging it touches nobody else's messages."""


def celery(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def worker(services, tmp_path_factory):
    # With its heartbeat, as the Procfile runs workers: that keeps the event dispatcher enable_events switches on.
    node = CeleryWorker(tmp_path_factory.mktemp("cli"), "cli", "backtests", heartbeat=True)
    yield node
    node.kill()


def test_a_bad_setting_stops_the_command_with_one_line_that_names_it():
    run = celery("inspect", "ping", CELERY_BROKER_URL="ftp://broker.example")

    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        "tickflow: CELERY_BROKER_URL: 'ftp://broker.example' is not a URL with scheme redis:// or rediss:// or unix://"
    ]


def test_inspect_ping_and_status_see_the_worker_by_its_node_name(worker):
    ping = celery("inspect", "ping", "-d", worker.hostname, "--timeout", "5")
    assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr
    status = celery("status", "--timeout", "5")
    assert status.returncode == 0 and worker.hostname in status.stdout, status.stdout + status.stderr


def test_inspect_lists_the_tasks_the_worker_runs_by_their_clear_names(worker):
    registered = celery("inspect", "registered", "-d", worker.hostname, "--timeout", "5")
    assert registered.returncode == 0, registered.stderr
    for name in ("tasks.backtests.run", "tasks.live.ingest", "tasks.maintenance.reconcile_positions"):
        assert name in registered.stdout
    queues = celery("inspect", "active_queues", "-d", worker.hostname, "--timeout", "5")
    assert "'name': 'backtests'" in queues.stdout


def test_control_adds_and_cancels_a_queue_consumer(worker):
    added = celery("control", "add_consumer", QUEUE, "-d", worker.hostname, "--timeout", "5")
    assert added.returncode == 0 and f"add consumer {QUEUE}" in added.stdout, added.stdout + added.stderr
    cancelled = celery("control", "cancel_consumer", QUEUE, "-d", worker.hostname, "--timeout", "5")
    assert cancelled.returncode == 0 and "no longer consuming" in cancelled.stdout, cancelled.stdout


def test_purge_empties_only_the_queues_named(worker):
    for _ in range(3):
        app.send_task("tasks.backtests.run", args=["000000000000000000000000"], queue=QUEUE)
    purged = celery("purge", "-f", "-Q", QUEUE)
    assert purged.returncode == 0 and "Purged 3 messages from 1 known task queue" in purged.stdout, purged.stdout
    with app.connection_for_read() as connection:
        assert connection.default_channel.client.llen(QUEUE) == 0


def test_events_dump_shows_task_events_once_they_are_enabled(worker):
    enabled = celery("control", "enable_events", "-d", worker.hostname, "--timeout", "5")
    assert enabled.returncode == 0, enabled.stderr
    dump = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "events", "--dump"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(2)  # connected and listening before the event is sent
        wait_for(lambda: celery("inspect", "ping", "-d", worker.hostname, "--timeout", "5").returncode == 0, 20)
        app.send_task("tasks.backtests.run", args=["000000000000000000000000"], queue="backtests")
        time.sleep(3)
    finally:
        dump.terminate()
        output = dump.communicate(timeout=10)[0]
        celery("control", "disable_events", "-d", worker.hostname, "--timeout", "5")
    assert f"{worker.hostname} " in output and "task received: tasks.backtests.run" in output, output[-2000:]
