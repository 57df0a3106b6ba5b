"""Beat's periodic maintenance: reconcile positions, refresh the strategy cache, prune live keys.

Against the real test Redis and MongoDB; the last test runs the schedule's tasks on a real
worker subprocess. Keys are made "old" the way they age in production: market times in
the past (candle and signal times), or a short idle age and a pause (ingest times, which
Redis stamps itself).
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from bson import ObjectId

from strategies import position as machine
from strategies.domain import OrderSide, Tick
from strategies.examples import load_example
from tasks import app as celery_app
from tasks.beat import BEAT_SCHEDULE, PRUNE_EVERY_S, RECONCILE_EVERY_S, REFRESH_CACHE_EVERY_S
from tests.celery_workers import CeleryWorker, wait_for
from tests.ops.test_deployment_files import PROCESSES
from tests.workers.replay import run_candles
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.positions import Position
from tickflow.storage.strategies import CACHE_TTL_MS, StrategyNotFound, StrategyRepository
from tickflow.synthetic import generate_candles
from workers.broker import PaperBroker, account
from workers.engine import LiveEngine
from workers.maintenance import (
    IDLE_ENV,
    check_liveness,
    prune_live_keys,
    reconcile_positions,
    refresh_strategy_cache,
)
from workers.orders import OrderClaims, OrderRequest, client_order_id
from workers.positions import Commit
from workers.ticks import encode_batch

ROOT = Path(__file__).resolve().parents[2]
SYMBOL = "BTCUSDT"
T0 = 1_704_067_200_000  # 2024-01-01: market times this old are past any idle age below
MINUTE = 60_000
S1, S2, OLD, NEW = "a1" * 12, "b2" * 12, "0d" * 12, "ee" * 12
"""Strategy ids of orders with no strategy behind them: ObjectIds, as client order ids encode them."""
MAINTENANCE = {
    "tasks.maintenance.reconcile_positions": RECONCILE_EVERY_S,
    "tasks.maintenance.refresh_strategy_cache": REFRESH_CACHE_EVERY_S,
    "tasks.maintenance.prune_live_keys": PRUNE_EVERY_S,
}


@pytest.fixture
def engine(db, redis) -> LiveEngine:
    return LiveEngine(redis, db, LiveSettings())


@pytest.fixture
def repository(db, redis) -> StrategyRepository:
    return StrategyRepository(db, redis)


def new_strategy(repository: StrategyRepository, name: str, timeframe: str = "1m", **params: float) -> str:
    doc = load_example("sma_cross")
    doc.update(name=name, symbols=[SYMBOL], timeframe=timeframe)
    doc["params"].update(params)
    return repository.create(doc).id


def traded(engine: LiveEngine, repository: StrategyRepository) -> str:
    """A paper strategy that traded 120 one-minute candles and holds a position at the end."""
    strategy_id = new_strategy(repository, "fast cross", fast=3, slow=8)
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(120, "1m", seed=2), 0, 120)
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side, "pick a seed that leaves a position open"
    return strategy_id


def ingest(engine: LiveEngine, symbol: str, *times: int) -> None:
    engine.ingest(encode_batch([Tick(symbol, t, 100.0, 1.0) for t in times]))


def symbol_keys(redis, symbol: str) -> list[str]:
    return sorted(key for key in redis.scan_iter(match="tf:live:*") if f":{symbol}" in key)


def mismatch_events(redis) -> list[dict]:
    return [json.loads(f["data"]) for _, f in redis.xrange(keys.live_events()) if f["type"] == "mismatch"]


# -- the schedule ---------------------------------------------------------------------------------


def test_beat_schedules_each_maintenance_task_on_a_live_workers_queue_expiring_after_its_period():
    live_queues = re.search(r"-Q\s+(\S+)", PROCESSES["worker-live"])[1].split(",")
    assert celery_app.conf.beat_schedule == BEAT_SCHEDULE
    scheduled = {entry["task"]: entry for entry in BEAT_SCHEDULE.values()}
    assert {task: scheduled[task]["schedule"] for task in MAINTENANCE} == MAINTENANCE
    celery_app.loader.import_default_modules()  # what a worker imports when it starts
    for task, entry in scheduled.items():
        assert task in celery_app.tasks
        assert entry["options"]["queue"] in live_queues
        assert entry["options"]["expires"] == entry["schedule"]  # at most one run waits while nobody consumes


def test_every_scheduled_task_is_in_the_runbooks_table():
    runbook = (ROOT / "docs/operations.md").read_text()
    table = runbook[runbook.index("## Periodic work (beat)") :]
    for entry in BEAT_SCHEDULE.values():
        assert f"`{entry['task']}`" in table


# -- reconciling positions --------------------------------------------------------------------------


def test_the_paper_broker_reports_net_positions_from_its_fills_each_counted_once(redis):
    broker = PaperBroker(redis)

    def order(action: str, side: OrderSide, size: float) -> OrderRequest:
        return OrderRequest(client_order_id(S1, SYMBOL, T0, action), S1, SYMBOL, side, size, 10.0, 0.0, T0, action)

    broker.submit(order("open", OrderSide.BUY, 2.5))
    broker.submit_many([order("open", OrderSide.BUY, 2.5)])  # a redelivered task sends it again
    assert broker.positions([(S1, SYMBOL), (S2, SYMBOL)]) == [2.5, 0.0]
    broker.submit_many([order("signal", OrderSide.SELL, 2.5), order("reversal", OrderSide.SELL, 1.0)])
    assert broker.positions([(S1, SYMBOL)]) == [-1.0]


def test_an_engine_that_traded_agrees_with_its_paper_broker(engine, repository, redis):
    strategy_id = traded(engine, repository)
    result = reconcile_positions(engine)
    assert (result.accounts, result.differences) == (1, [])
    status = redis.hgetall(keys.reconcile_status())
    assert {name: status[name] for name in ("accounts", "mismatches", "pending", "runs", "details")} == {
        "accounts": "1",
        "mismatches": "0",
        "pending": "0",
        "runs": "1",
        "details": "[]",
    }
    assert redis.hlen(keys.paper_fills()) > 2 and redis.hget(keys.paper_positions(), account(strategy_id, SYMBOL))


def test_a_difference_is_reported_once_it_lasts_and_nothing_is_fixed(engine, repository, redis, caplog):
    strategy_id = traded(engine, repository)
    held = float(redis.hget(keys.paper_positions(), account(strategy_id, SYMBOL)))
    redis.hset(keys.paper_positions(), account(strategy_id, SYMBOL), held + 1)  # the broker holds one more
    position_before = redis.hgetall(keys.position(strategy_id, SYMBOL))
    caplog.set_level("INFO", logger="workers.maintenance")

    first = reconcile_positions(engine, confirm_s=0.3)
    again = reconcile_positions(engine, confirm_s=0.3)  # a duplicate run right after confirms nothing
    assert [m.confirmed for m in first.differences + again.differences] == [False, False]
    assert again.differences[0].since == first.differences[0].since
    assert mismatch_events(redis) == [] and "position mismatch" not in caplog.text

    time.sleep(0.35)
    lasting = reconcile_positions(engine, confirm_s=0.3)
    [mismatch] = lasting.mismatches
    assert (mismatch.strategy_id, mismatch.symbol, mismatch.engine_size, mismatch.broker_size) == (
        strategy_id,
        SYMBOL,
        held,
        held + 1,
    )
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert (
        f"strategy_id={strategy_id} symbol={SYMBOL} mode=paper engine_size={held!r} "
        f"broker_size={held + 1!r}" in warning.getMessage()
    )
    [reported] = mismatch_events(redis)
    assert (reported["strategy_id"], reported["broker_size"], reported["confirmed"]) == (strategy_id, held + 1, True)
    assert redis.hget(keys.reconcile_status(), "mismatches") == "1"
    assert redis.hgetall(keys.position(strategy_id, SYMBOL)) == position_before  # reported, not fixed
    assert float(redis.hget(keys.paper_positions(), account(strategy_id, SYMBOL))) == held + 1

    redis.hset(keys.paper_positions(), account(strategy_id, SYMBOL), held)  # a trader sets it right
    assert reconcile_positions(engine, confirm_s=0.3).differences == []
    assert redis.hget(keys.reconcile_status(), "details") == "[]"
    assert redis.hget(keys.reconcile_status(), "runs") == "4"


def test_a_difference_that_heals_before_it_lasts_is_never_reported(engine, repository, redis):
    strategy_id = traded(engine, repository)
    redis.hincrbyfloat(keys.paper_positions(), account(strategy_id, SYMBOL), 5)  # a fill whose commit is late
    assert not reconcile_positions(engine, confirm_s=60).mismatches
    redis.hincrbyfloat(keys.paper_positions(), account(strategy_id, SYMBOL), -5)  # ... and lands
    assert reconcile_positions(engine, confirm_s=0).differences == []
    assert mismatch_events(redis) == []


def test_positions_compared_as_signed_sizes(engine, repository, redis):
    """Short positions are negative on both sides: a short the broker holds as a long is a difference."""
    strategy_id = new_strategy(repository, "short")
    engine.start(strategy_id, "paper", 10_000)
    state = machine.new_state(10_000.0)
    state[machine.SIDE], state[machine.SIZE] = -1, 3.0
    engine.book.commit_many([Commit(Position(strategy_id, SYMBOL, state), has_stops=False)])
    redis.hset(keys.paper_positions(), account(strategy_id, SYMBOL), -3.0)
    assert reconcile_positions(engine, confirm_s=0).differences == []
    redis.hset(keys.paper_positions(), account(strategy_id, SYMBOL), 3.0)
    [mismatch] = reconcile_positions(engine, confirm_s=0).mismatches
    assert (mismatch.engine_size, mismatch.broker_size) == (-3.0, 3.0)
    np.testing.assert_equal(engine.book.load(strategy_id, SYMBOL, 0).state, state)


# -- refreshing the strategy cache --------------------------------------------------------------------


def test_refresh_rewrites_every_strategy_from_mongodb_and_retires_entries_of_gone_ones(repository, db, redis):
    missing = new_strategy(repository, "missing")
    edited_by_hand = new_strategy(repository, "edited")
    deleted = new_strategy(repository, "deleted")
    repository.delete(deleted)
    redis.delete(keys.strategy_key(missing))
    db.strategies.update_one({"_id": ObjectId(edited_by_hand)}, {"$set": {"spec.params.fast": 7}})  # no new version
    orphan = str(ObjectId())  # in the cache, never (or no longer) in MongoDB
    redis.hset(keys.strategy_key(orphan), mapping={"version": 3, "doc": repository.get(missing).to_json()})

    result = refresh_strategy_cache(db, redis)
    assert (result.written, result.newer, result.retired) == (2, 0, 1)
    assert repository.get(missing).name == "missing"
    assert repository.get(edited_by_hand).spec["params"]["fast"] == 7
    assert redis.pttl(keys.strategy_key(missing)) > CACHE_TTL_MS - 5_000
    assert redis.hgetall(keys.strategy_key(orphan))["version"] == "4"  # a tombstone over what was cached
    for gone in (orphan, deleted):
        with pytest.raises(StrategyNotFound):
            repository.get(gone)
    assert refresh_strategy_cache(db, redis) == type(result)(2, 0, 0)  # twice is the same as once


def test_refresh_never_replaces_a_write_that_landed_after_its_read(repository, redis):
    strategy_id = new_strategy(repository, "raced")
    read_by_refresh = repository.get(strategy_id)  # version 1, as the refresh read it from MongoDB
    repository.patch(strategy_id, {"params": {"fast": 4}})  # version 2, MongoDB then cache
    assert repository.recache(read_by_refresh) is False
    assert repository.get(strategy_id).version == 2

    redis.delete(keys.strategy_key(strategy_id))  # version 3 reached MongoDB; its cache write is still on its way
    newer = repository.replace(strategy_id, {**read_by_refresh.spec, "params": {"fast": 5, "slow": 20}})
    redis.delete(keys.strategy_key(strategy_id))
    assert repository.recache(read_by_refresh) is True  # the refresh gets there first, with version 1 ...
    assert repository.recache(newer) is True  # ... and the writer's version 3 still replaces it
    assert repository.get(strategy_id).spec["params"]["fast"] == 5

    repository.delete(strategy_id)
    assert repository.recache(newer) is False  # nor can it bring back a strategy deleted meanwhile
    with pytest.raises(StrategyNotFound):
        repository.get(strategy_id)


def test_refreshing_while_a_writer_edits_leaves_the_cache_equal_to_mongodb(repository, db, redis):
    strategy_id = new_strategy(repository, "busy")
    stop = threading.Event()
    errors: list[Exception] = []

    def refresh_until_stopped() -> None:
        try:
            while not stop.is_set():
                refresh_strategy_cache(db, redis)
        except Exception as error:
            errors.append(error)

    refresher = threading.Thread(target=refresh_until_stopped)
    refresher.start()
    try:
        for fast in range(2, 42):
            repository.patch(strategy_id, {"params": {"fast": fast}})
    finally:
        stop.set()
        refresher.join()
    assert not errors
    stored = db.strategies.find_one({"_id": ObjectId(strategy_id)})
    cached = json.loads(redis.hget(keys.strategy_key(strategy_id), "doc"))
    assert (cached["version"], cached["spec"]["params"]["fast"]) == (stored["version"], 41) == (41, 41)


# -- pruning live keys ---------------------------------------------------------------------------------


def test_a_symbol_nobody_trades_or_feeds_loses_all_its_keys(engine, repository, db, redis):
    ingest(engine, "OLDUSDT", T0, T0 + MINUTE, T0 + 2 * MINUTE)  # two closes: candles, progress marks
    ingest(engine, "OLDUSDT", T0 + 1_000)  # late: counted in tf:live:late
    held = new_strategy(repository, "held")
    engine.start(held, "paper", 10_000)
    ingest(engine, SYMBOL, T0, T0 + MINUTE)
    assert redis.hget(keys.late_ticks(), "OLDUSDT") == "1" and len(symbol_keys(redis, "OLDUSDT")) == 5
    time.sleep(0.3)
    ingest(engine, "NEWUSDT", int(time.time() * 1000))  # fed just now
    pruned = prune_live_keys(engine, db, idle_s=0.25)
    assert pruned.symbols == ["OLDUSDT"]
    assert symbol_keys(redis, "OLDUSDT") == [] and redis.hget(keys.late_ticks(), "OLDUSDT") is None
    assert symbol_keys(redis, "NEWUSDT") and redis.exists(keys.last_tick(SYMBOL))  # fed, and traded


def test_a_symbol_with_an_open_position_keeps_its_keys_after_its_strategy_stops(engine, repository, db, redis):
    strategy_id = traded(engine, repository)
    engine.active.stop(strategy_id)  # left open (as a stop before close_positions was required could): still valued
    time.sleep(0.3)
    assert prune_live_keys(engine, db, idle_s=0.25).symbols == []
    assert redis.exists(keys.last_tick(SYMBOL), keys.position(strategy_id, SYMBOL)) == 2


def test_a_symbol_that_ticks_again_while_prune_runs_loses_nothing_from_then_on(engine, db, redis):
    """Whether a symbol is idle is decided in the script that deletes, so a tick that lands after
    prune listed the symbol as idle keeps its keys."""
    start = int(time.time() * 1000) // MINUTE * MINUTE - 200 * MINUTE
    ingest(engine, "LIVEUSDT", start - MINUTE)
    time.sleep(1.1)  # idle now: prune may delete this first candle, until the next tick lands
    stop = threading.Event()
    pruned: list[list[str]] = []

    def prune_until_stopped() -> None:
        while not stop.is_set():
            pruned.append(prune_live_keys(engine, db, idle_s=1.0).symbols)

    pruner = threading.Thread(target=prune_until_stopped)
    pruner.start()
    try:
        for i in range(200):  # a batch every few milliseconds, each closing the candle before
            ingest(engine, "LIVEUSDT", start + i * MINUTE)
    finally:
        stop.set()
        pruner.join()
    assert len(pruned) > 1 and sum(map(len, pruned)) <= 1
    closed = [int(row.split(",")[0]) for row in redis.lrange(keys.closed_candles("LIVEUSDT", "1m"), 0, -1)]
    assert closed[-199:] == [start + i * MINUTE for i in range(199)]
    assert closed[:-199] in ([], [start - MINUTE])  # the idle candle, unless prune took it in time


def test_timeframes_no_strategy_uses_any_more_lose_their_keys(engine, repository, db, redis):
    hourly = new_strategy(repository, "hourly", timeframe="1h")
    minute = new_strategy(repository, "minute")
    for strategy_id in (hourly, minute):
        engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(3, "1h", seed=1), 0, 3, timeframe="1h")
    hourly_keys = [
        keys.current_candle(SYMBOL, "1h"),
        keys.closed_candles(SYMBOL, "1h"),
        keys.candle_processed(SYMBOL, "1h"),
        keys.indicator_values(SYMBOL, "1h"),
    ]
    assert redis.exists(*hourly_keys) == 4
    assert prune_live_keys(engine, db, idle_s=60).timeframes == []  # still used
    engine.stop(hourly, close_positions=False)
    assert prune_live_keys(engine, db, idle_s=60).timeframes == [f"{SYMBOL} 1h"]  # its candles are from 2024
    assert redis.exists(*hourly_keys) == 0
    assert redis.exists(keys.current_candle(SYMBOL, "1m"), keys.last_tick(SYMBOL)) == 2


def test_dashboard_values_of_stopped_strategies_go_once_older_than_the_idle_age(engine, repository, db, redis):
    stopped, running, recent = (new_strategy(repository, name) for name in ("stopped", "running", "recent"))
    engine.start(running, "paper", 10_000)
    now = int(time.time() * 1000)
    values = {stopped: T0, running: T0, recent: now}
    redis.hset(keys.last_signals(), mapping={f"{sid}:{SYMBOL}": json.dumps({"t": t}) for sid, t in values.items()})
    redis.hset(keys.indicator_values(SYMBOL, "1m"), mapping={sid: json.dumps({"t": t}) for sid, t in values.items()})
    ingest(engine, SYMBOL, now)
    assert prune_live_keys(engine, db, idle_s=3600).fields == 2
    assert sorted(redis.hkeys(keys.last_signals())) == sorted(f"{sid}:{SYMBOL}" for sid in (running, recent))
    assert sorted(redis.hkeys(keys.indicator_values(SYMBOL, "1m"))) == sorted((running, recent))


def test_only_flat_accounts_of_deleted_strategies_are_deleted(engine, repository, db, redis):
    names = ("deleted flat", "deleted open", "stopped flat", "deleted active")
    deleted_flat, deleted_open, stopped_flat, deleted_active = (new_strategy(repository, n) for n in names)
    engine.start(deleted_active, "paper", 10_000)
    accounts = []
    for strategy_id in (deleted_flat, deleted_open, stopped_flat, deleted_active):
        state = machine.new_state(10_000.0)
        if strategy_id == deleted_open:
            state[machine.SIDE], state[machine.SIZE], state[machine.ENTRY_PRICE] = 1, 2.0, 100.0
        accounts.append(Commit(Position(strategy_id, SYMBOL, state), has_stops=False))
    assert engine.book.commit_many(accounts) == [True] * 4
    for strategy_id in (deleted_flat, deleted_open, deleted_active):
        repository.delete(strategy_id)
    assert prune_live_keys(engine, db, idle_s=60).accounts == [f"{deleted_flat} {SYMBOL}"]
    assert [
        bool(redis.exists(keys.position(sid, SYMBOL)))
        for sid in (deleted_flat, deleted_open, stopped_flat, deleted_active)
    ] == [False, True, True, True]


def test_prune_leaves_what_the_engine_needs_and_runs_twice_harmlessly(engine, repository, db, redis):
    strategy_id = traded(engine, repository)
    engine.stop(strategy_id, close_positions=True)  # stopped and flat: nothing left that it needs
    redis.hset(keys.trade_outbox(), "t:0", "{}")  # a record MongoDB has not taken yet
    needed = [
        keys.live_epoch(),
        keys.trade_outbox(),
        keys.paper_fills(),
        keys.paper_positions(),
        keys.position(strategy_id, SYMBOL),
    ]
    redis.set(keys.live_epoch(), "built")
    time.sleep(0.3)
    first = prune_live_keys(engine, db, idle_s=0.25)
    assert first.symbols == [SYMBOL]  # nothing trades it or feeds it any more
    assert redis.exists(*needed) == len(needed)
    assert prune_live_keys(engine, db, idle_s=0.25).summary() == {
        "symbols": 0,
        "timeframes": 0,
        "fields": 0,
        "accounts": 0,
        "fills": 0,
    }


def paper_order(strategy_id: str, candle_open_ms: int, action: str = "open") -> OrderRequest:
    return OrderRequest(
        client_order_id(strategy_id, SYMBOL, candle_open_ms, action),
        strategy_id,
        SYMBOL,
        OrderSide.BUY,
        1.0,
        100.0,
        0.0,
        candle_open_ms,
        action,
    )


def test_paper_fills_go_once_their_order_claims_have_expired_and_they_are_older_than_a_claim_lives(engine, db, redis):
    broker, claims = PaperBroker(redis), OrderClaims(redis)
    now = int(time.time() * 1000) // MINUTE * MINUTE
    expired, claimed, recent = paper_order(S1, T0), paper_order(S1, T0 + MINUTE), paper_order(S1, now)
    for order in (expired, claimed, recent):
        assert claims.claim(order, engine.settings.fill_retention_s)
        broker.submit(order)
    redis.delete(keys.order_claim(expired.client_order_id), keys.order_claim(recent.client_order_id))  # expired
    assert broker.positions([(S1, SYMBOL)]) == [3.0]

    assert prune_live_keys(engine, db, idle_s=60).fills == 1
    assert sorted(redis.hkeys(keys.paper_fills())) == sorted([claimed.client_order_id, recent.client_order_id])
    assert broker.positions([(S1, SYMBOL)]) == [3.0]  # the net positions are the book: all fills still count
    assert broker.submit(claimed) == broker.lookup(claimed.client_order_id)  # the first fill again
    assert broker.positions([(S1, SYMBOL)]) == [3.0]  # still once
    assert prune_live_keys(engine, db, idle_s=60).fills == 0


def test_fills_stored_while_prune_runs_are_never_lost(engine, db, redis):
    """Each fill is judged inside the script that drops it, and a new fill's claim is set before it
    is stored, so an order filled while prune works through old fills keeps its fill."""
    broker, claims = PaperBroker(redis), OrderClaims(redis)
    old = [paper_order(OLD, T0 + i * MINUTE) for i in range(3_000)]
    broker.submit_many(old)  # unclaimed: their claims expired long ago
    stop = threading.Event()
    dropped: list[int] = []

    def prune_until_stopped() -> None:
        while not stop.is_set():
            dropped.append(prune_live_keys(engine, db, idle_s=60).fills)

    pruner = threading.Thread(target=prune_until_stopped)
    pruner.start()
    try:
        new = [paper_order(NEW, T0 + i * MINUTE) for i in range(600)]  # as old by market time
        for i in range(0, len(new), 20):  # as execute does: claim, then fill
            claims.claim_many(new[i : i + 20], [60] * 20)
            broker.submit_many(new[i : i + 20])
    finally:
        stop.set()
        pruner.join()
    assert len(dropped) > 1 and sum(dropped) == len(old)
    assert sorted(redis.hkeys(keys.paper_fills())) == sorted(order.client_order_id for order in new)
    assert broker.positions([(OLD, SYMBOL), (NEW, SYMBOL)]) == [3_000.0, 600.0]


def test_signal_keys_and_order_claims_expire_by_themselves(engine, redis):
    """Prune never scans for them: they are written with their TTL in the same command."""
    position = Position(S1, SYMBOL, machine.new_state(10_000.0))
    signal = keys.signal(S1, SYMBOL, T0)
    engine.book.commit_many([Commit(position, False, extras=[(signal, "{}", 7 * 86_400)])])
    order = OrderRequest(client_order_id(S1, SYMBOL, T0, "open"), S1, SYMBOL, OrderSide.BUY, 1.0, 1.0, 0.0, T0, "entry")
    OrderClaims(redis).claim(order, 720)
    assert 0 < redis.ttl(signal) <= 7 * 86_400
    assert 0 < redis.ttl(keys.order_claim(order.client_order_id)) <= 720


# -- the tasks on a worker -----------------------------------------------------------------------------------


def test_the_scheduled_tasks_run_on_a_live_worker(engine, repository, db, redis, tmp_path):
    worker = CeleryWorker(tmp_path, "maintenance", "orders", env={IDLE_ENV: str(0.2 / 86_400)})
    try:
        strategy_id = new_strategy(repository, "worker")
        engine.start(strategy_id, "paper", 10_000)  # flat ...
        redis.hset(keys.paper_positions(), account(strategy_id, SYMBOL), 5.0)  # ... but the broker is long 5
        redis.hset(
            keys.reconcile_status(), "details", json.dumps([{"strategy_id": strategy_id, "symbol": SYMBOL, "since": 0}])
        )  # and has been, since an earlier run
        orphan = str(ObjectId())
        redis.hset(keys.strategy_key(orphan), mapping={"version": 1, "doc": repository.get(strategy_id).to_json()})
        ingest(engine, "OLDUSDT", T0)
        time.sleep(0.3)

        for entry in BEAT_SCHEDULE.values():
            celery_app.send_task(entry["task"], **entry["options"])
        wait_for(lambda: redis.hget(keys.reconcile_status(), "mismatches") == "1", 30, "the reconciliation")
        wait_for(lambda: redis.hget(keys.strategy_key(orphan), "doc") == "", 30, "the orphan's tombstone")
        wait_for(lambda: not redis.exists(keys.last_tick("OLDUSDT")), 30, "the idle symbol to go")
        [reported] = mismatch_events(redis)
        assert (reported["strategy_id"], reported["engine_size"], reported["broker_size"]) == (strategy_id, 0.0, 5.0)
        assert "reconcile: position mismatch" in worker.tail(200)
    finally:
        worker.kill()


def test_a_symbol_that_stops_ticking_is_reported_stale_once_and_again_when_it_ticks(engine, repository, redis, caplog):
    strategy_id = new_strategy(repository, "watched", fast=3, slow=8)
    engine.start(strategy_id, "paper", 10_000)
    now = int(time.time() * 1000)
    ingest(engine, SYMBOL, now - 3 * MINUTE)
    assert check_liveness(redis) == [SYMBOL]
    assert check_liveness(redis) == [SYMBOL]  # reported once
    ingest(engine, SYMBOL, now)
    assert check_liveness(redis) == []
    events = [json.loads(f["data"]) for _, f in redis.xrange(keys.live_events()) if f["type"] == "stale"]
    assert [(e["symbol"], e["stale"]) for e in events] == [(SYMBOL, True), (SYMBOL, False)]
    assert events[0]["timeframe"] == "1m" and events[0]["age_s"] >= 180
    assert f"{SYMBOL} is stale: no tick for" in caplog.text
