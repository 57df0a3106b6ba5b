"""Jobs delivered again while they run: longer than the visibility timeout, or their whole worker killed.

Every queue shares one short Redis visibility timeout (30 s in production,
3 s in ``tests.backtests.short_visibility``). A backtest task renews its message's
lease while it runs, so a job longer than the timeout is delivered once;
with renewal off (``tests.backtests.no_lease``) it is delivered again while it
runs, and the first execution to finish must win, every other one stopping
without writing. Real workers, Redis and MongoDB; stage delays
(``TICKFLOW_TEST_STAGE_DELAY_S``) make the jobs long. The storage rules are
also checked directly on MongoDB, with no worker.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from bson import ObjectId
from celery.result import AsyncResult

from strategies.backtest import run_backtest
from strategies.spec import validate_spec
from tasks.celery_app import RESTORE_INTERVAL_S, RESTORE_MUTEX_EXPIRE_S, VISIBILITY_TIMEOUT_S
from tests.backtests.conftest import wait_for
from tickflow.storage.backtest_results import BacktestRepository, SweepRepository

BACKTESTS = "/api/v1/backtests"
SWEEPS = "/api/v1/sweeps"
SHORT_TIMEOUT_S = 3  # tests.backtests.short_visibility
LONG_DELAY_S = 1.5  # per stage: a run takes three of them, long enough to be restored
assert 3 * LONG_DELAY_S > SHORT_TIMEOUT_S + RESTORE_INTERVAL_S


def finished(api, path: str, timeout: float) -> dict:
    def final() -> dict | None:
        doc = api("get", path)
        return doc if doc["state"] not in ("queued", "running") else None

    return wait_for(final, timeout, f"{path} to finish")


def in_broker(task_id: str) -> bool:
    """Whether the broker still holds the message of task ``task_id``, queued or delivered and
    unacknowledged: while it does, it can be delivered (again)."""
    from tasks.celery_app import app

    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        messages = [*client.hvals(connection.default_channel.unacked_key), *client.lrange("backtests", 0, -1)]
        return any(task_id.encode() in message for message in messages)


def deliveries(worker, task_id: str) -> int:
    """How many times ``worker`` received the message of task ``task_id``."""
    return len(re.findall(rf"\[{re.escape(task_id)}\] received", worker.log_path.read_text(errors="replace")))


def executions_ended(worker, task_id: str) -> int:
    """How many of ``worker``'s executions of task ``task_id`` have returned, were ignored or raised."""
    log = worker.log_path.read_text(errors="replace")
    return len(re.findall(rf"\[{re.escape(task_id)}\] (?:succeeded|ignored|raised|failed)", log))


def all_executions_over(worker, task_id: str) -> bool:
    """Acknowledged, and every execution it was delivered for has ended: none can write any more."""
    return not in_broker(task_id) and executions_ended(worker, task_id) == deliveries(worker, task_id)


def expected_result(strategy, candles, params=None):
    spec = validate_spec(strategy.spec)
    return run_backtest(spec.with_params(params) if params else spec, candles)


def test_the_production_timeout_is_short_and_swept_every_second():
    from tasks.celery_app import app

    options = app.conf.broker_transport_options
    assert (
        (options["visibility_timeout"], options["unacked_restore_interval"], options["unacked_restore_throttle"])
        == (VISIBILITY_TIMEOUT_S, 1, 1)
        == (30, 1, 1)
    )
    assert options["unacked_mutex_expire"] == RESTORE_MUTEX_EXPIRE_S <= VISIBILITY_TIMEOUT_S / 6


def test_a_backtest_longer_than_the_visibility_timeout_renews_its_lease_and_runs_once(
    start_worker, api, strategy, candles, db
):
    worker = start_worker(app_module="tests.backtests.short_visibility", stage_delay=LONG_DELAY_S)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id})
    done = finished(api, f"{BACKTESTS}/{run['id']}", 60)
    assert done["state"] == "done" and done["attempts"] == 1
    assert done["stats"] == pytest.approx(expected_result(strategy, candles).to_dict()["stats"], nan_ok=True)
    wait_for(lambda: not in_broker(run["task_id"]), 10, "the message to be acknowledged")
    assert deliveries(worker, run["task_id"]) == 1  # acknowledged, it can never be delivered again
    assert AsyncResult(run["task_id"]).get(timeout=10) == {"id": run["id"], "outcome": "done"}


def test_a_backtest_delivered_again_while_it_runs_is_done_exactly_once(
    start_worker, api, client, auth_headers, strategy, candles, db
):
    worker = start_worker(app_module="tests.backtests.no_lease", stage_delay=LONG_DELAY_S)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id, "params": {"fast": 6}})
    path = f"{BACKTESTS}/{run['id']}"
    done = finished(api, path, 60)
    assert done["state"] == "done" and done["attempts"] >= 2, worker.tail()
    winner = db.backtest_results.find_one({"_id": ObjectId(run["id"])})["arrays_attempt"]

    # Every other execution stops at its next stage change, deleting whatever it wrote; none writes after.
    wait_for(lambda: db.backtest_arrays.distinct("attempt") == [winner], 20, "only the winner's arrays")
    wait_for(lambda: all_executions_over(worker, run["task_id"]), 30, "every execution to end")
    assert deliveries(worker, run["task_id"]) == done["attempts"] >= 2
    final = api("get", path)
    assert final == done  # no loser wrote anything after the winner
    assert db.backtest_arrays.distinct("attempt") == [winner]

    expected = expected_result(strategy, candles, {"fast": 6})
    assert final["stats"] == pytest.approx(expected.to_dict()["stats"], nan_ok=True)
    assert final["n_trades"] == len(expected.trades)
    curve = api("get", f"{path}/equity")
    assert np.array_equal(curve["equity"], expected.equity)
    trades = api("get", f"{path}/trades?per_page=1000")
    assert trades["items"] == expected.trades.to_dicts()[:1000]
    # The losers' ``stopped`` does not overwrite the winner's result.
    assert AsyncResult(run["task_id"]).get(timeout=10) == {"id": run["id"], "outcome": "done"}


def test_a_worker_killed_while_holding_the_restore_lock_delays_restores_only_briefly(
    start_worker, api, strategy, candles, db
):
    # As a worker SIGKILLed in the middle of a restore sweep leaves it: kombu's lock, taken with the expiry the
    # app configures and never released.
    from tasks.celery_app import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert channel.client.lock(channel.unacked_mutex_key, timeout=channel.unacked_mutex_expire).acquire(
            blocking=False
        )
        assert 0 < channel.client.pttl(channel.unacked_mutex_key) <= RESTORE_MUTEX_EXPIRE_S * 1000  # it expires
    worker = start_worker(app_module="tests.backtests.no_lease", stage_delay=2 * RESTORE_MUTEX_EXPIRE_S / 3)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id})
    done = finished(api, f"{BACKTESTS}/{run['id']}", 60)
    # A run takes three stages (2 x the lock's life); its message is delivered again once the dead lock expires.
    assert done["state"] == "done" and done["attempts"] >= 2, worker.tail()


def test_a_sweep_whose_chunks_are_delivered_again_while_they_run_is_complete_once(
    start_worker, api, strategy, candles, db
):
    # Two workers, two chunks: while one worker runs both, the other has free slots for their redeliveries.
    workers = [start_worker(app_module="tests.backtests.no_lease", stage_delay=LONG_DELAY_S) for _ in range(2)]
    sweep = api(
        "post",
        SWEEPS,
        202,
        json={"strategy_id": strategy.id, "chunk_size": 4, "grid": {"fast": [4, 6, 8, 10], "slow": [20, 40]}},
    )
    done = finished(api, f"{SWEEPS}/{sweep['id']}", 120)
    assert done["state"] == "done" and done["progress"]["combos_done"] == 8, workers[0].tail()
    chunks = list(db.sweep_chunks.find({}))
    assert all(chunk["state"] == "done" for chunk in chunks)
    assert max(chunk["attempts"] for chunk in chunks) >= 2  # delivered again while running, and still done
    assert all(1 <= chunk["done_attempt"] <= chunk["attempts"] for chunk in chunks)
    assert sorted(result["combo"] for result in db.sweep_results.find({})) == list(range(8))


def test_a_whole_worker_killed_mid_job_is_recovered_within_the_production_timeout_and_sweep(
    start_worker, api, strategy, candles, db
):
    first = start_worker(stage_delay=2.0)  # the production app: 30 s timeout, swept every second
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id})
    path = f"{BACKTESTS}/{run['id']}"
    wait_for(lambda: api("get", path)["state"] == "running", 20, "the run to be claimed")
    time.sleep(0.5)
    first.kill()
    killed = time.monotonic()

    second = start_worker()
    done = finished(api, path, VISIBILITY_TIMEOUT_S + 30)
    recovered = time.monotonic() - killed
    # The message's lease was renewed at most timeout / 6 before the kill; nothing brings it back before it expires.
    assert VISIBILITY_TIMEOUT_S * 5 / 6 - 1 <= recovered <= VISIBILITY_TIMEOUT_S + RESTORE_INTERVAL_S + 10
    assert done["state"] == "done" and done["attempts"] == 2 and done["worker"]["hostname"] == second.hostname
    assert db.backtest_arrays.distinct("attempt") == [2]


# The storage rules alone, on MongoDB: what the executions above rely on.

TARGET = {"strategy_id": "s", "spec": {}, "symbol": "BTCUSDT", "timeframe": "1h", "cash": 1.0}


def test_a_second_claim_does_not_invalidate_the_first_and_the_first_to_finish_wins(db):
    runs = BacktestRepository(db)
    oid = runs.create(TARGET)["_id"]
    first, second = (runs.claim(oid, {"pid": pid})["attempts"] for pid in (1, 2))
    assert (first, second) == (1, 2)
    assert runs.advance(oid, first, {"stage": "running"})  # not superseded
    columns = {"ts": np.arange(3), "equity": np.ones(3)}
    assert runs.complete(oid, first, {"bars": 3}, columns)
    assert not runs.advance(oid, second, {"stage": "storing"})  # the loser notices at its next check...
    assert not runs.complete(oid, second, {"bars": 3}, columns)  # ...or at its final write, and keeps nothing
    assert not runs.fail(oid, second, "late")
    doc = runs.get(oid)
    assert (doc["state"], doc["arrays_attempt"], doc["bars"]) == ("done", 1, 3)
    assert db.backtest_arrays.distinct("attempt") == [1]


def test_an_attempt_that_died_blocks_nothing_and_its_arrays_are_removed(db):
    runs = BacktestRepository(db)
    oid = runs.create(TARGET)["_id"]
    dead = runs.claim(oid, {"pid": 1})["attempts"]
    db.backtest_arrays.insert_one({"owner": oid, "attempt": dead, "name": "equity", "first": 0, "end": 1})
    again = runs.claim(oid, {"pid": 2})["attempts"]
    assert runs.complete(oid, again, {}, {"equity": np.ones(2)})
    assert db.backtest_arrays.distinct("attempt") == [again]

    # A loser that died between writing its arrays and deleting them: the next delivery cleans up.
    db.backtest_arrays.insert_one({"owner": oid, "attempt": 9, "name": "equity", "first": 0, "end": 1})
    assert runs.claim(oid, {"pid": 3}) is None
    runs.discard_stale_arrays(oid)
    assert db.backtest_arrays.distinct("attempt") == [again]


def test_cancelling_stops_every_execution(db):
    runs = BacktestRepository(db)
    oid = runs.create(TARGET)["_id"]
    attempts = [runs.claim(oid, {"pid": pid})["attempts"] for pid in (1, 2)]
    runs.cancel(oid)
    assert not any(runs.advance(oid, attempt, {"stage": "running"}) for attempt in attempts)
    assert not any(runs.complete(oid, attempt, {}, {"equity": np.ones(2)}) for attempt in attempts)
    assert runs.get(oid)["state"] == "cancelled" and db.backtest_arrays.count_documents({}) == 0


def test_a_chunk_is_finished_by_its_first_execution_and_a_cancelled_sweep_stops_them_all(db):
    sweeps = SweepRepository(db)
    fields = {**TARGET, "space": {"fast": [1, 2]}, "objective": "sharpe"}
    sweep, (chunk_id, other_id) = sweeps.create(fields, [[{"fast": 1}], [{"fast": 2}]])
    (first, _), (second, _) = (sweeps.claim_chunk(chunk_id, {"pid": pid}) for pid in (1, 2))
    assert sweeps.chunk_running(first) and sweeps.chunk_running(second)
    result = [{"combo": 0, "params": {"fast": 1}, "stats": {}, "score": 1.0}]
    assert sweeps.complete_chunk(second, result, {}, {"pid": 2})
    assert not sweeps.chunk_running(first) and not sweeps.complete_chunk(first, result, {})
    chunk = db.sweep_chunks.find_one({"_id": chunk_id})
    assert (chunk["state"], chunk["done_attempt"], chunk["worker"]) == ("done", 2, {"pid": 2})

    other, _ = sweeps.claim_chunk(other_id, {"pid": 3})
    sweeps.cancel(sweep["_id"])
    assert not sweeps.chunk_running(other)
    assert not sweeps.complete_chunk(other, [{"combo": 1, "params": {"fast": 2}, "stats": {}, "score": 0.0}], {})
    assert db.sweep_results.count_documents({}) == 1
