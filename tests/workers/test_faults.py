"""Faults of docs/reliability.md that no other test covers, each against the real processes.

The feed: ``tickflow feed`` as the Procfile runs it, SIGKILLed while it publishes and started
again. Redis: a live worker whose Redis (its broker and its live state) goes away while a
strategy holds a position, and comes back with its data (AOF, as compose runs it) or empty;
the worker is never restarted. MongoDB: a backtest worker whose MongoDB stops in the middle of
a run. Every wait is for a condition, never for time to pass.
"""

from __future__ import annotations

import base64
import json
import os
import signal
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from celery import Celery
from pymongo import MongoClient

from cli.localservices import LocalRedis, ProcfileProcess, free_port
from strategies.backtest import run_backtest
from strategies.candles import TIMEFRAME_MS
from strategies.domain import Tick
from strategies.examples import load_example
from strategies.spec import validate_spec
from tasks.backtests import submit_backtest
from tests.backtests.conftest import BARS as BACKTEST_BARS
from tests.backtests.conftest import SYMBOL as BACKTEST_SYMBOL
from tests.backtests.conftest import TIMEFRAME as BACKTEST_TIMEFRAME
from tests.backtests.stage_delay import STAGE_DELAY_ENV
from tests.celery_workers import CeleryWorker
from tests.conftest import ROOT
from tests.ops.test_deployment_files import PROCESSES
from tests.workers.conftest import LIVE_QUEUES, SYMBOL, TIMEFRAME, trading_sma_cross, wait_for
from tests.workers.replay import archived_trades, candle_ticks, replay
from tests.workers.test_crash_and_outage import own_mongo  # noqa: F401  (a fixture)
from tickflow.settings import LiveSettings, get_settings
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.storage.schema import ensure_schema
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine
from workers.progress import wait_candle_open
from workers.ticks import batch_marker, decode_batch, encode_batch

# -- the feed -------------------------------------------------------------------------------------

BATCHES = 10
"""Batches each feed process publishes before the test stops it (the Procfile's feed sends ~15 a second)."""


def broker_client() -> redis_lib.Redis:
    return redis_lib.Redis.from_url(get_settings().celery_broker_url)


def queued_batches(broker: redis_lib.Redis) -> list[dict]:
    """The tick batches waiting in the ``ingest`` queue, oldest first, as a worker will receive them."""
    batches = []
    for raw in reversed(broker.lrange("ingest", 0, -1)):  # kombu pushes on the left and pops on the right
        message = json.loads(raw)
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _options = json.loads(body)
        batches.append(args[0])
    return batches


def running_feed(log: Path) -> ProcfileProcess:
    return ProcfileProcess(PROCESSES["feed"], {}, log, ROOT)


def wait_queued(broker: redis_lib.Redis, feed: ProcfileProcess, count: int) -> None:
    def queued() -> bool:
        assert feed.process.poll() is None, f"the feed exited:\n{feed.tail()}"
        return broker.llen("ingest") >= count

    wait_for(queued, 60, f"{count} batches in the ingest queue")


def one_candle(ticks: list[Tick]) -> tuple:
    """``(open time, o, h, l, c)`` and the volume of one candle's ticks, in time order."""
    prices = [tick.price for tick in ticks]
    period = TIMEFRAME_MS["1m"]
    return (ticks[0].ts // period * period, prices[0], max(prices), min(prices), prices[-1]), sum(t.qty for t in ticks)


def test_a_feed_killed_while_publishing_loses_only_what_it_had_not_sent_and_a_new_one_carries_on(
    live_broker, db, redis, tmp_path
):
    """The feed is killed as the kernel or an operator would, and started again as compose's restart policy does.
    Both publish while no worker runs, so the test reads every batch they sent before a worker ingests them: the
    candles in Redis are exactly those ticks, each once, the new feed's continuing the old one's."""
    broker = broker_client()
    broker.delete("ingest")  # no worker runs: what the two feeds send waits here, to be read before it is ingested
    first = running_feed(tmp_path / "feed-1.log")
    try:
        wait_queued(broker, first, BATCHES)
    finally:
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    killed_sent = broker.llen("ingest")

    second = running_feed(tmp_path / "feed-2.log")
    try:
        wait_queued(broker, second, killed_sent + BATCHES)
    finally:
        assert second.stop() == 0, second.tail()
    assert "simulated feed stopped:" not in first.log.read_text() and "0 dropped" in second.tail()

    batches = queued_batches(broker)
    publishers = defaultdict(list)
    for batch in batches:
        publisher, number = batch["id"].rsplit("-", 1)
        publishers[publisher].append(int(number))
    assert len(publishers) == 2 and all(numbers == list(range(1, len(numbers) + 1)) for numbers in publishers.values())
    assert len(next(iter(publishers.values()))) == killed_sent  # every batch the killed feed sent, in order

    worker = CeleryWorker(tmp_path, "live", LIVE_QUEUES, "tests.workers.live_app", concurrency=1)
    try:
        markers = [batch_marker(batch["id"]) for batch in batches]
        wait_for(lambda: all(redis.getbit(*marker) for marker in markers), 30, "every batch to be ingested")
    finally:
        worker.kill()

    by_symbol: dict[str, list[Tick]] = defaultdict(list)
    for batch in batches:
        for tick in decode_batch(batch).ticks():
            by_symbol[tick.symbol].append(tick)
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    for symbol, ticks in by_symbol.items():
        assert [tick.ts for tick in ticks] == sorted(tick.ts for tick in ticks)  # the new feed follows the old
        candles: dict[int, list[Tick]] = defaultdict(list)
        for tick in ticks:
            candles[tick.ts // TIMEFRAME_MS["1m"]].append(tick)
        *closed, forming = [one_candle(candle) for _, candle in sorted(candles.items())]
        rows = [row.split(",") for row in redis.lrange(keys.closed_candles(symbol, "1m"), 0, -1)]
        assert [((int(r[0]), *map(float, r[1:5])), float(r[5])) for r in rows] == [
            (prices, pytest.approx(volume, rel=1e-12)) for prices, volume in closed
        ]
        now = redis.hgetall(keys.current_candle(symbol, "1m"))
        assert (int(now["t"]), *(float(now[f]) for f in "ohlc")) == forming[0]
        assert float(now["v"]) == pytest.approx(forming[1], rel=1e-12)
        assert int(now["n"]) == len(candles[max(candles)])
    assert not redis.exists(keys.late_ticks(), keys.quarantined_ticks())  # no tick out of place, none counted twice


# -- Redis ----------------------------------------------------------------------------------------

BARS = 400
HOLD_ENV = "TICKFLOW_TEST_HOLD_EXECUTE"
"""Read by ``tests.workers.held_execute_app`` (not imported here: it shortens the visibility timeout of the app it
loads, which is this process's too)."""
OUTAGE_AT = 198
"""Candle 198's first tick closes 197, and Redis goes away while that close's ``execute`` runs, the position opened at
194 held. Neither the close of 197 nor that of 198 (lost with the forming candle when Redis comes back empty) decides
anything in the backtest."""


def app_on(broker_url: str) -> Celery:
    """A Celery app that sends to and controls the workers of ``broker_url`` (``CELERY_BROKER_URL``, which every
    app prefers to the URL it is given, names the tests' own broker)."""
    app = Celery("faults", set_as_current=False)
    app.conf.update(broker_read_url=broker_url, broker_write_url=broker_url)
    return app


class OwnRedisWorker(CeleryWorker):
    """A live worker whose broker, result backend and live state are all ``server``; its ``execute`` waits while
    the file ``hold`` exists (``tests.workers.held_execute_app``)."""

    def __init__(self, log_dir: Path, server: LocalRedis, hold: Path) -> None:
        self.app = app_on(f"redis://127.0.0.1:{server.port}/1")
        env = {
            "REDIS_URL": server.url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{server.port}/1",
            "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{server.port}/2",
            HOLD_ENV: str(hold),
        }
        super().__init__(log_dir, "live", LIVE_QUEUES, "tests.workers.held_execute_app", env=env)

    def _answers_ping(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.hostname} exited with {self.process.returncode}:\n{self.tail()}")
        return bool(self.app.control.ping(destination=[self.hostname], timeout=0.5))

    def send_ingest(self, payload: dict) -> None:
        self.app.send_task("tasks.live.ingest", args=[payload], queue="ingest", ignore_result=True)


@pytest.fixture
def own_redis(request, tmp_path: Path) -> Iterator[LocalRedis]:
    """A Redis only this test uses, so it can be stopped: with AOF (comes back with its data) or without."""
    server = LocalRedis(free_port(), tmp_path / "redis", persistent=request.param == "with its data")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("own_redis", ["with its data", "empty"], indirect=True)
def test_a_live_worker_rides_out_redis_going_away_and_trades_on_when_it_is_back(own_redis, db, tmp_path):
    """Candles replayed in lockstep; Redis stopped while a close's ``execute`` runs and the strategy holds a
    position, started again, the replay carried on: the same worker process trades every later candle as the
    backtest does. Empty, the worker rebuilds the strategy's account from MongoDB and warms its candles from
    ``historical_candles``."""
    live = redis_lib.Redis(port=own_redis.port, decode_responses=True)
    engine = LiveEngine(live, db, LiveSettings())
    strategy_id, candles, expected = trading_sma_cross(engine, BARS)
    assert any(trade[0] < int(candles.ts[OUTAGE_AT]) < trade[1] for trade in expected)  # a position is held
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, candles.slice(0, OUTAGE_AT + 1))  # what an empty Redis warms up from
    hold = tmp_path / "hold-execute"

    worker = OwnRedisWorker(tmp_path, own_redis, hold)
    send = worker.send_ingest
    try:
        replay(send, live, SYMBOL, TIMEFRAME, candles, stop=OUTAGE_AT)
        hold.touch()
        send(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, OUTAGE_AT)))
        wait_for(Path(f"{hold}.held").exists, 30, "the close's execute to run")
        own_redis.kill()
        wait_for(lambda: "Connection to broker lost" in worker.tail(200), 30, "the worker to notice")
        own_redis.start()
        hold.unlink()

        if own_redis.persistent:
            replay(send, live, SYMBOL, TIMEFRAME, candles, start=OUTAGE_AT + 1, timeout_s=60)
        else:  # the forming candle went with Redis: the next one is a first candle again
            send(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, OUTAGE_AT + 1)))
            assert wait_candle_open(live, SYMBOL, TIMEFRAME, int(candles.ts[OUTAGE_AT + 1]), 60)
            replay(send, live, SYMBOL, TIMEFRAME, candles, start=OUTAGE_AT + 2, timeout_s=60)
        wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")
        assert worker.process.poll() is None, worker.tail()  # the same worker all along
    finally:
        worker.kill()
    assert archived_trades(db, strategy_id) == expected


# -- MongoDB under a backtest ---------------------------------------------------------------------

STAGE_DELAY_S = 2.0
"""Each stage of the backtest pauses this long before recording itself in MongoDB: a run seen at its first two
stages has two more writes to make, seconds later, when MongoDB has stopped (had it not, the run would be done at
its first attempt, and the test would say so)."""


def test_a_backtest_whose_mongodb_stops_mid_run_is_retried_and_done_once_mongodb_is_back(
    own_mongo,  # noqa: F811
    redis,
    tmp_path,
):
    """The run's task fails on MongoDB's connection error and Celery retries it with backoff until MongoDB answers;
    the retry claims a second attempt and completes the run, whose first attempt stored nothing."""
    uri = f"mongodb://127.0.0.1:{own_mongo.port}/tickflow_faults?directConnection=true"
    db = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000).get_default_database()
    ensure_schema(db)
    candles = generate_candles(BACKTEST_BARS, BACKTEST_TIMEFRAME, seed=3)
    CandleStore(db).upsert(BACKTEST_SYMBOL, BACKTEST_TIMEFRAME, candles)
    strategies = StrategyRepository(db, redis)
    strategy = strategies.create(load_example("sma_cross"))
    env = {STAGE_DELAY_ENV: str(STAGE_DELAY_S), "MONGO_URI": uri}
    worker = CeleryWorker(tmp_path, "jobs", "backtests", "tests.backtests.stage_delay", env=env)
    try:
        run_id = submit_backtest(db, strategies, strategy.id)["_id"]
        started = {"_id": run_id, "progress.stage": {"$in": ["claimed", "loading"]}}
        wait_for(lambda: db.backtest_results.find_one(started), 30, "the run to start")
        own_mongo.stop()  # while the worker pauses at a stage: its next write fails
        wait_for(lambda: "retry: Retry in" in worker.tail(200), 60, "the task to be retried")
        own_mongo.start()
        wait_for(lambda: db.backtest_results.find_one({"_id": run_id, "state": {"$ne": "running"}}), 60, "the run")
    finally:
        worker.kill()

    done = db.backtest_results.find_one({"_id": run_id})
    assert done["state"] == "done" and done["attempts"] == 2  # the first attempt stopped at the outage
    expected = run_backtest(validate_spec(strategy.spec), candles)
    assert done["n_trades"] == len(expected.trades) and done["stats"]["return_pct"] == pytest.approx(
        expected.to_dict()["stats"]["return_pct"]
    )
    assert set(db.backtest_arrays.distinct("attempt")) == {2}
