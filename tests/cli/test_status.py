"""``tickflow status`` against the real test Redis and MongoDB, and a real worker subprocess."""

import os
import subprocess
import sys

import pytest
import redis as redis_lib
from click.testing import CliRunner

from cli.main import cli
from strategies.examples import load_example
from tasks.backtests import submit_backtest
from tests.backtests.conftest import new_backtest_worker
from tests.celery_workers import CeleryWorker
from tests.conftest import ROOT
from tickflow.settings import get_settings, live_settings
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine


def status(*args: str):
    return CliRunner().invoke(cli, ["status", "--timeout", "0.5", *args], catch_exceptions=False)


@pytest.fixture
def live_strategy(db, redis):
    """A strategy trading BTCUSDT and ETHUSDT on paper, with a last tick on BTCUSDT only."""
    strategy = StrategyRepository(db, redis).create(
        {**load_example("sma_cross"), "name": "Status SMA", "symbols": ["BTCUSDT", "ETHUSDT"], "timeframe": "1m"}
    )
    LiveEngine(redis, db, live_settings()).start(strategy.id, "paper", 5_000.0)
    redis.hset(keys.last_tick("BTCUSDT"), mapping={"ts": 1_700_000_000_000, "p": 101.5, "q": 1})
    return strategy


def test_without_workers_it_shows_the_rest_and_exits_1(db, redis, live_strategy):
    CandleStore(db).upsert("BTCUSDT", "1m", generate_candles(500, "1m"))
    run = submit_backtest(db, StrategyRepository(db, redis), live_strategy.id)
    result = status()
    out = result.output
    assert result.exit_code == 1, out
    assert "Redis    up" in out and "MongoDB  up" in out and "Broker   up" in out
    assert "no worker answered" in out
    for queue in ("ingest", "strategy", "orders", "backtests"):
        assert f"{queue:<10}" in out and "no worker consumes this queue" in out
    assert f"{live_strategy.id}  Status SMA" in out
    btc = next(line for line in out.splitlines() if "BTCUSDT" in line and "last" in line)
    assert "flat" in btc and "last 101.5" in btc and "equity 5,000.00" in btc and "PnL +0.00" in btc
    assert "no tick yet" in next(line for line in out.splitlines() if "ETHUSDT" in line)
    assert "BTCUSDT stale: no tick for" in out  # its last tick is from 2023
    assert f"backtest {run['_id']}  queued" in out


def test_a_halt_is_shown_first_among_the_live_strategies(db, redis, live_strategy):
    halted = CliRunner().invoke(cli, ["halt", "--reason", "exchange maintenance"], catch_exceptions=False)
    assert halted.exit_code == 0 and "trading halted" in halted.output
    out = status().output
    live = out[out.index("Live strategies") :]
    assert live.splitlines()[1].strip().startswith("TRADING HALTED since ")
    assert "by cli: exchange maintenance (`tickflow resume`)" in live


def test_a_worker_is_listed_with_its_queues_and_unconsumed_queues_are_problems(db, redis, tmp_path):
    worker = new_backtest_worker(tmp_path)
    try:
        result = status("--timeout", "1")
    finally:
        worker.kill()
    out = result.output
    node = next(line for line in out.splitlines() if worker.hostname in line)
    assert "up" in node and "queues backtests" in node and "running 0 (idle)" in node
    assert "no worker answered" not in out
    assert "none active" in out
    problems = [line for line in out.splitlines() if "no worker consumes this queue" in line]
    assert sorted(line.split()[0] for line in problems) == ["ingest", "orders", "strategy"]
    assert result.exit_code == 1


def test_sharded_it_lists_each_shards_queues_and_flags_the_shard_and_strays_no_worker_takes(services, tmp_path):
    broker = redis_lib.Redis.from_url(get_settings().celery_broker_url)
    broker.rpush("ingest", "{}")  # as a feed started without LIVE_SHARDS would send
    worker = CeleryWorker(tmp_path, "shard0-", "ingest.0,strategy.0,orders.0", env={"LIVE_SHARDS": "2"})
    try:  # a subprocess: live_shards() is read once per process
        done = subprocess.run(
            [sys.executable, "-m", "cli", "status", "--timeout", "1"],
            cwd=ROOT,
            env={**os.environ, "LIVE_SHARDS": "2"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        worker.kill()
        broker.delete("ingest")
    out = done.stdout
    assert "Queues (messages waiting, LIVE_SHARDS=2)" in out, out
    node = next(line for line in out.splitlines() if worker.hostname in line)
    assert "queues ingest.0,orders.0,strategy.0" in node
    queues = out.split("Queues (messages waiting, LIVE_SHARDS=2)\n")[1].split("Live strategies")[0].splitlines()
    assert [line.split()[0] for line in queues] == [
        "ingest.0",
        "strategy.0",
        "orders.0",
        "ingest.1",
        "strategy.1",
        "orders.1",
        "backtests",
        "ingest",
    ]
    problems = {line.split()[0]: line for line in queues if "no worker consumes this queue" in line}
    assert sorted(problems) == ["backtests", "ingest", "ingest.1", "orders.1", "strategy.1"]
    assert problems["ingest"].split()[1] == "1" and "without LIVE_SHARDS=2?" in problems["ingest"]
    assert done.returncode == 1


def test_with_redis_and_mongodb_down_it_says_so_quickly_and_exits_1(services):
    closed = "127.0.0.1:9"  # discard: nothing listens there
    env = {
        **os.environ,
        "REDIS_URL": f"redis://{closed}/0",
        "CELERY_BROKER_URL": f"redis://{closed}/1",
        "CELERY_RESULT_BACKEND": f"redis://{closed}/2",
        "MONGO_URI": f"mongodb://{closed}/tickflow",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    for name in ("Redis", "Broker", "MongoDB"):
        assert f"{name:<8} down" in done.stdout
    assert "unknown: the broker is down" in done.stdout
    assert "unknown: Redis is down" in done.stdout and "unknown: MongoDB is down" in done.stdout
    assert "problem(s)" in done.stderr
