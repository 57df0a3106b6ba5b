"""Scale-out: more nodes on one broker share a sweep's chunks, and live work is routed by symbol.

Nodes are ``celery worker`` subprocesses, each with its own ``--hostname``, on the test
Redis and MongoDB: what another machine adds is another such process (network
namespaces would only change how they reach Redis; docs/deployment.md). Speed is not
asserted here; ``bench/scaleout.py`` measures it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib

from strategies.backtest import run_many
from strategies.examples import load_example
from strategies.spec import validate_spec
from tasks.backtests import submit_sweep
from tasks.celery_app import app as celery_app
from tasks.feed import celery_sink, sharded
from tasks.routing import (
    SHARDS_ENV,
    group_by_shard,
    node_queues,
    parse_shards,
    shard_of,
    shard_queue,
    split_batch,
)
from tests.celery_workers import CeleryWorker, started_workers, wait_for
from tests.workers.conftest import create_strategy, spec_doc
from tests.workers.replay import archived_trades, backtest_trades, candle_ticks
from tickflow.settings import LiveSettings, SettingsError, get_settings
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine
from workers.progress import wait_candle_open, wait_candle_processed
from workers.ticks import encode_batch

SHARDS = 2
LIVE_SYMBOLS = {"ETHUSDT": 0, "SOLUSDT": 0, "BTCUSDT": 1, "ADAUSDT": 1}
"""Two symbols on each of two shards (their crc32 decides; the unit test below pins it)."""
LIVE_BARS = 200
DECIDE_SUCCEEDED = re.compile(r"Task tasks\.live\.decide\[[^]]+\] succeeded .*")
LEG_SYMBOL = re.compile(r"'symbol': '([A-Z0-9._-]+)'")


@pytest.fixture
def start_node(services, tmp_path_factory) -> Iterator[Callable[..., CeleryWorker]]:
    """``start_node(name, queues, ...)``: a worker node of its own hostname; every one is killed after the test."""
    yield from started_workers(CeleryWorker, tmp_path_factory.mktemp("nodes"))


# -- routing units ---------------------------------------------------------------------------------


def test_shards_come_from_crc32_so_every_process_and_machine_agrees():
    assert {symbol: shard_of(symbol, SHARDS) for symbol in LIVE_SYMBOLS} == LIVE_SYMBOLS
    assert [shard_of("BTCUSDT", n) for n in (1, 2, 3, 5)] == [0, 1, 0, 2]  # fixed values: hash() would vary by run
    assert shard_queue("ingest", 0, 1) == "ingest" and shard_queue("orders", 1, 2) == "orders.1"
    assert node_queues(0, 1) == "ingest,strategy,orders" and node_queues(1, 3) == "ingest.1,strategy.1,orders.1"


def test_live_shards_is_a_whole_number_of_at_least_one():
    assert parse_shards("") == 1 and parse_shards("4") == 4
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SettingsError, match=rf"^{SHARDS_ENV}: '{re.escape(bad)}' is not a whole number"):
            parse_shards(bad)


def test_with_shards_beat_sends_its_periodic_tasks_to_shard_zeros_orders_queue():
    # The schedule is built when the app is imported, so ask a fresh interpreter.
    command = [
        sys.executable,
        "-c",
        "import tasks; print(sorted({entry['options']['queue'] for entry in tasks.app.conf.beat_schedule.values()}))",
    ]
    queues = {
        shards: subprocess.run(
            command, env={**os.environ, "LIVE_SHARDS": shards}, capture_output=True, text=True, check=True
        ).stdout.strip()
        for shards in ("1", "3")
    }
    assert queues == {"1": "['orders']", "3": "['orders.0']"}


def test_a_batch_splits_by_shard_keeping_each_symbols_ticks_in_order():
    names = ["BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT", "ADAUSDT", "ETHUSDT"]
    payload = {"s": names, "t": list(range(6)), "p": [10.0 + i for i in range(6)], "q": [1.0] * 6}

    parts = split_batch(payload, SHARDS)

    assert parts == {
        1: {"s": ["BTCUSDT", "BTCUSDT", "ADAUSDT"], "t": [0, 2, 4], "p": [10.0, 12.0, 14.0], "q": [1.0] * 3},
        0: {"s": ["ETHUSDT", "SOLUSDT", "ETHUSDT"], "t": [1, 3, 5], "p": [11.0, 13.0, 15.0], "q": [1.0] * 3},
    }
    assert split_batch(payload, 1) == {0: payload} and split_batch(parts[0], SHARDS) == {0: parts[0]}
    assert group_by_shard(names, str, SHARDS) == {
        1: ["BTCUSDT", "BTCUSDT", "ADAUSDT"],
        0: ["ETHUSDT", "SOLUSDT", "ETHUSDT"],
    }


def test_the_sink_sends_each_part_to_its_shard_and_a_retry_only_the_parts_not_yet_sent():
    sent, failing = [], {"ingest.0"}

    def send_to(queue: str, part: dict) -> None:
        if queue in failing:
            raise ConnectionError("broker down")
        sent.append((queue, part["s"]))

    sink = sharded(send_to, "ingest", SHARDS)
    payload = encode_batch(
        [tick for symbol in ("BTCUSDT", "ETHUSDT") for tick in candle_ticks(symbol, "1m", generate_candles(1, "1m"), 0)]
    )
    with pytest.raises(ConnectionError):
        sink(payload)
    failing.clear()
    sink(dict(payload))  # the publisher's retry encodes the batch again: an equal payload
    sink(payload)  # a new batch with the same ticks is sent whole

    assert sent == [
        ("ingest.1", ["BTCUSDT"] * 4),
        ("ingest.0", ["ETHUSDT"] * 4),
        ("ingest.1", ["BTCUSDT"] * 4),
        ("ingest.0", ["ETHUSDT"] * 4),
    ]


# -- a sweep over several nodes --------------------------------------------------------------------


def test_a_sweeps_chunks_spread_over_every_node_and_its_results_are_complete_and_right(start_node, db, redis):
    nodes = [start_node(name=f"sweep-node-{letter}", queues="backtests", concurrency=1) for letter in "ab"]
    candles = generate_candles(20_000, "1h", seed=11)
    CandleStore(db).upsert("BTCUSDT", "1h", candles)
    strategies = StrategyRepository(db, redis)
    strategy = strategies.create(load_example("sma_cross"))
    grid = {"fast": {"start": 5, "stop": 40, "step": 5}, "slow": [50, 100, 150]}

    sweep = submit_sweep(db, strategies, strategy.id, grid=grid, chunk_size=2)
    assert sweep["combos"] == 24 and sweep["chunks_total"] == 12
    done = wait_for(
        lambda: (doc := db.sweeps.find_one({"_id": sweep["_id"]}))["state"] not in ("queued", "running") and doc,
        120,
        "the sweep to finish\n" + "\n".join(node.tail(20) for node in nodes),
    )
    assert done["state"] == "done", done.get("error")

    chunks = list(db.sweep_chunks.find({"sweep_id": sweep["_id"]}))
    by_node = {node.hostname: sum(chunk["worker"]["hostname"] == node.hostname for chunk in chunks) for node in nodes}
    assert all(chunk["state"] == "done" for chunk in chunks) and sum(by_node.values()) == 12
    assert all(by_node.values()), f"every node takes chunks: {by_node}"

    sets = [{"fast": fast, "slow": slow} for fast in range(5, 45, 5) for slow in (50, 100, 150)]
    expected = {
        (r.params["fast"], r.params["slow"]): r.stats for r in run_many(validate_spec(strategy.spec), candles, sets)
    }
    results = list(db.sweep_results.find({"sweep_id": sweep["_id"]}))
    assert sorted(r["combo"] for r in results) == list(range(24))
    for result in results:
        stats = expected[result["params"]["fast"], result["params"]["slow"]]
        assert result["stats"]["sharpe"] == pytest.approx(stats["sharpe"])
        assert result["stats"]["n_trades"] == stats["n_trades"]


# -- live work routed by symbol --------------------------------------------------------------------


@pytest.fixture
def shard_queues_empty(services) -> None:
    """The shard queues emptied: only this module's nodes consume them, and a run cut short may have left ticks."""
    broker = redis_lib.Redis.from_url(get_settings().celery_broker_url)
    broker.delete(*(queue for shard in range(SHARDS) for queue in node_queues(shard, SHARDS).split(",")))


def test_with_two_shards_each_node_handles_its_symbols_and_every_symbol_trades_as_in_a_backtest(
    start_node, shard_queues_empty, db, redis
):
    engine = LiveEngine(redis, db, LiveSettings())
    docs = {symbol: spec_doc("sma_cross", name=f"sma {symbol}", symbols=[symbol]) for symbol in LIVE_SYMBOLS}
    ids = {symbol: create_strategy(db, redis, doc) for symbol, doc in docs.items()}
    for strategy_id in ids.values():
        engine.start(strategy_id, "paper", 10_000)
    nodes = [
        start_node(name=f"live-shard{shard}-", queues=node_queues(shard, SHARDS), env={SHARDS_ENV: str(SHARDS)})
        for shard in range(SHARDS)
    ]
    candles = {symbol: generate_candles(LIVE_BARS, "1m", seed=20 + n) for n, symbol in enumerate(LIVE_SYMBOLS)}

    send = celery_sink(celery_app, shards=SHARDS)
    for i in range(LIVE_BARS):  # lockstep, as a replay feed runs it: every symbol's candle i in one batch
        send(
            encode_batch([tick for symbol, series in candles.items() for tick in candle_ticks(symbol, "1m", series, i)])
        )
        for symbol, series in candles.items():
            done = (
                wait_candle_open(redis, symbol, "1m", int(series.ts[0]), 30)
                if i == 0
                else wait_candle_processed(redis, symbol, "1m", int(series.ts[i - 1]), 30)
            )
            assert done, f"{symbol} candle {i - 1} not processed\n" + "\n".join(node.tail(20) for node in nodes)
    wait_for(lambda: engine.archive.pending() == 0, 10, "the outbox to empty")

    for symbol, series in candles.items():
        expected = backtest_trades(validate_spec(docs[symbol]), series)
        assert expected and archived_trades(db, ids[symbol]) == expected, symbol
    for shard, node in enumerate(nodes):
        decided = {
            symbol
            for line in node.log_path.read_text().splitlines()
            if DECIDE_SUCCEEDED.search(line)
            for symbol in LEG_SYMBOL.findall(line)
        }
        assert decided == {symbol for symbol, home in LIVE_SYMBOLS.items() if home == shard}, node.hostname
        totals = celery_app.control.inspect(destination=[node.hostname], timeout=2).stats()[node.hostname]["total"]
        assert {"tasks.live.ingest", "tasks.live.decide", "tasks.live.execute"} <= set(totals), totals
