"""Real Redis and MongoDB for the whole test session, on the tests' own ports.

The servers run under ``var/test/<service>-<port>/`` on ports distinct from ``make run``'s, so a
test run never touches a developer's data. A server already answering on its
port (a previous or parallel ``make test``) is reused and left running; what
this session started, it stops. Every test starts from empty databases.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6391"))
TEST_MONGO_PORT = int(os.environ.get("TEST_MONGO_PORT", "27028"))

# Set before any product module reads its settings.
os.environ.update(
    TICKFLOW_ENV="test",
    REDIS_URL=f"redis://127.0.0.1:{TEST_REDIS_PORT}/0",
    CELERY_BROKER_URL=f"redis://127.0.0.1:{TEST_REDIS_PORT}/1",
    CELERY_RESULT_BACKEND=f"redis://127.0.0.1:{TEST_REDIS_PORT}/2",
    MONGO_URI=f"mongodb://127.0.0.1:{TEST_MONGO_PORT}/tickflow_test?directConnection=true",
    SECRET_KEY="test-secret-key-0123456789",
)

from cli.localservices import LocalMongo, LocalRedis  # noqa: E402
from tickflow.settings import get_settings  # noqa: E402
from tickflow.storage import connections  # noqa: E402
from tickflow.storage.schema import INDEXES, ensure_schema  # noqa: E402


@pytest.fixture(scope="session")
def services():
    """Start (or reuse) the test Redis and MongoDB; stop them at the end if started here."""
    redis_server = LocalRedis(TEST_REDIS_PORT, ROOT / f"var/test/redis-{TEST_REDIS_PORT}", persistent=False)
    mongo_server = LocalMongo(TEST_MONGO_PORT, ROOT / f"var/test/mongo-{TEST_MONGO_PORT}", cache_gb=0.25)
    redis_server.ensure_running()
    mongo_server.ensure_running()
    get_settings.cache_clear()
    connections.reset_clients()
    yield redis_server, mongo_server
    connections.reset_clients()
    redis_server.stop()
    mongo_server.stop()


@pytest.fixture
def db(services):
    """The test database, emptied, with its schema in place."""
    database = connections.mongo_db()
    for name in database.list_collection_names():
        if name not in INDEXES:
            database.drop_collection(name)
        else:
            database[name].delete_many({})
    ensure_schema(database)
    return database


@pytest.fixture
def redis(services):
    """The live-state Redis, flushed."""
    client = connections.redis_client()
    client.flushdb()
    return client


@pytest.fixture
def app(db, redis):
    """The management API over emptied databases; its health monitor, if it started one, is stopped after."""
    from app import create_app

    app = create_app()
    yield app
    monitor = app.extensions.get("tickflow_health")
    if monitor is not None:
        monitor.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers(db):
    """``Authorization`` header with a newly issued token, of the default scope (admin: it may do anything)."""
    from tickflow.storage.tokens import TokenRepository

    token, _ = TokenRepository(db, connections.redis_client()).create("tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def headers_for(db):
    """``headers_for(scope, name=scope)``: an ``Authorization`` header with a new token of that scope."""
    from tickflow.storage.tokens import TokenRepository

    def issue(scope: str, name: str | None = None) -> dict[str, str]:
        token, _ = TokenRepository(db, connections.redis_client()).create(name or scope, scope)
        return {"Authorization": f"Bearer {token}"}

    return issue


@pytest.fixture
def cli_with_env(monkeypatch, capsys):
    """``run(name, value)``: ``tickflow services status`` in this process with one variable set; (exit code, stderr)."""
    from cli.main import main

    def run(name: str, value: str) -> tuple[int, str]:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            code = main(["services", "status"])
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
        return code, capsys.readouterr().err

    return run
