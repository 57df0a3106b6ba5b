"""No client waits forever on a store that accepts connections but never answers.

A stalled Redis or MongoDB (a frozen process, a half-open connection after a failover, a
firewall dropping packets) is played by a real socket server that accepts and stays
silent (``tests.silent_server``). Each client raises within its configured timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pymongo.errors
import pytest
import redis
from kombu.exceptions import OperationalError

from tasks.celery_app import RESULT_BACKEND_RETRY_S, create_celery
from tests.silent_server import silent_server
from tickflow.settings import get_settings
from tickflow.storage import connections

TIMEOUT_S = 0.5
SERVER_SELECTION_S = 5  # tickflow.storage.connections: how long pymongo looks for a usable server


@pytest.fixture
def stalled_stores(monkeypatch) -> Iterator[None]:
    """Every Redis and MongoDB URL at a silent server, with short Redis timeouts; the settings restored after."""
    with silent_server() as port:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
        monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/1")
        monkeypatch.setenv("CELERY_RESULT_BACKEND", f"redis://127.0.0.1:{port}/2")
        monkeypatch.setenv("MONGO_URI", f"mongodb://127.0.0.1:{port}/tickflow?directConnection=true")
        for name in ("REDIS_CONNECT_TIMEOUT_S", "REDIS_SOCKET_TIMEOUT_S", "MONGO_CONNECT_TIMEOUT_S"):
            monkeypatch.setenv(name, str(TIMEOUT_S))
        get_settings.cache_clear()
        connections.reset_clients()
        yield
    monkeypatch.undo()
    get_settings.cache_clear()
    connections.reset_clients()


def seconds_to_fail(call: Callable[[], object], error: type[BaseException]) -> float:
    started = time.monotonic()
    with pytest.raises(error):
        call()
    return time.monotonic() - started


def test_a_live_state_redis_command_raises_a_timeout_after_the_socket_timeout_without_retrying(stalled_stores):
    assert TIMEOUT_S <= seconds_to_fail(connections.redis_client().ping, redis.TimeoutError) < 2 * TIMEOUT_S


def test_a_mongodb_operation_gives_up_when_no_server_answers_within_server_selection(stalled_stores):
    elapsed = seconds_to_fail(
        lambda: connections.mongo_db().command("ping"), pymongo.errors.ServerSelectionTimeoutError
    )
    assert elapsed < SERVER_SELECTION_S + 1


def test_the_mongodb_client_has_connect_and_socket_timeouts_from_the_settings(stalled_stores):
    pool = connections.mongo_db().client.options.pool_options
    assert (pool.connect_timeout, pool.socket_timeout) == (TIMEOUT_S, get_settings().mongo_socket_timeout_s)


def test_a_celery_broker_connection_fails_instead_of_hanging(stalled_stores):
    app = create_celery()

    def connect() -> None:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)

    assert seconds_to_fail(connect, OperationalError) < 10 * TIMEOUT_S


def test_reading_a_result_from_a_stalled_result_backend_raises_a_timeout(stalled_stores):
    app = create_celery()
    assert seconds_to_fail(lambda: app.AsyncResult("no-such-task").state, redis.TimeoutError) < 2 * TIMEOUT_S


def test_sending_a_task_whose_result_is_kept_gives_up_after_the_result_backends_retry_bound(stalled_stores):
    app = create_celery()
    elapsed = seconds_to_fail(lambda: app.send_task("tasks.backtests.run", ("0" * 24,), queue="backtests"), Exception)
    assert elapsed < RESULT_BACKEND_RETRY_S + 1 + 4 * TIMEOUT_S  # the last try: a pause of 1 s and its timeouts
