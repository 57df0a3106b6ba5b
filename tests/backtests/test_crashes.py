"""Runs cancelled or crashed in the middle: real workers slowed by stage delays, cancelled by the API, SIGKILLed.

Every test starts its own workers (``start_worker``) and they are killed at
its end, so a test always knows which worker holds its task.
"""

from __future__ import annotations

import os
import signal

import pytest
from celery.result import AsyncResult

from backtests.jobs import STAGES
from strategies.backtest import run_backtest
from strategies.spec import validate_spec
from tests.backtests.conftest import wait_for

BACKTESTS = "/api/v1/backtests"
SWEEPS = "/api/v1/sweeps"
DELAY_S = 0.5


def poll(api, path: str, predicate, timeout: float, what: str) -> dict:
    def matching() -> dict | None:
        doc = api("get", path)
        return doc if predicate(doc) else None

    return wait_for(matching, timeout, what)


def test_cancelling_a_running_backtest_stops_it_and_stores_nothing(start_worker, api, strategy, candles, db):
    start_worker(stage_delay=DELAY_S)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id})
    path = f"{BACKTESTS}/{run['id']}"
    poll(api, path, lambda doc: doc["state"] == "running", 20, "the run to be claimed")
    task = AsyncResult(run["task_id"])
    wait_for(lambda: task.state == "PROGRESS", 10, "the task to report progress")
    assert task.info["id"] == run["id"] and task.info["stage"] in STAGES

    cancelled = api("delete", path)
    assert cancelled["state"] == "cancelled" and cancelled["progress"] == {"stage": "cancelled"}
    assert task.get(timeout=20) == {"id": run["id"], "outcome": "stopped"}
    final = api("get", path)
    assert final["state"] == "cancelled" and "stats" not in final
    assert db.backtest_arrays.count_documents({}) == 0


def test_a_backtest_whose_pool_process_is_killed_is_redelivered_and_done_exactly_once(
    start_worker, api, strategy, candles, db
):
    start_worker(stage_delay=DELAY_S)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id})
    path = f"{BACKTESTS}/{run['id']}"
    claimed = poll(api, path, lambda doc: doc["state"] == "running", 20, "the run to be claimed")
    os.kill(claimed["worker"]["pid"], signal.SIGKILL)

    done = poll(api, path, lambda doc: doc["state"] not in ("queued", "running"), 60, "the redelivered run")
    assert done["state"] == "done" and done["attempts"] == 2
    assert done["worker"]["pid"] != claimed["worker"]["pid"]
    expected = run_backtest(validate_spec(strategy.spec), candles)
    assert done["stats"] == pytest.approx(expected.to_dict()["stats"], nan_ok=True)
    assert done["n_trades"] == len(expected.trades)
    assert set(db.backtest_arrays.distinct("attempt")) == {2}
    assert AsyncResult(run["task_id"]).get(timeout=10) == {"id": run["id"], "outcome": "done"}


def test_a_backtest_whose_whole_worker_is_killed_is_finished_by_a_new_worker(start_worker, api, strategy, candles, db):
    first = start_worker(stage_delay=DELAY_S)
    run = api("post", BACKTESTS, 202, json={"strategy_id": strategy.id, "params": {"fast": 7}})
    path = f"{BACKTESTS}/{run['id']}"
    poll(api, path, lambda doc: doc["state"] == "running", 20, "the run to be claimed")
    first.kill()

    # Its message is unacknowledged in Redis: a worker brings it back once it is older than the visibility timeout.
    second = start_worker(app_module="tests.backtests.short_visibility")
    done = poll(api, path, lambda doc: doc["state"] not in ("queued", "running"), 60, "the run on the new worker")
    assert done["state"] == "done" and done["attempts"] == 2 and done["worker"]["hostname"] == second.hostname
    expected = run_backtest(validate_spec(strategy.spec).with_params({"fast": 7}), candles)
    assert done["stats"] == pytest.approx(expected.to_dict()["stats"], nan_ok=True)
    assert db.backtest_results.count_documents({"state": "done"}) == 1
    assert set(db.backtest_arrays.distinct("attempt")) == {2}


def test_a_resumed_sweep_runs_only_the_chunks_its_killed_worker_left_unfinished(
    start_worker, api, strategy, candles, db
):
    first = start_worker(stage_delay=0.4)
    sweep = api(
        "post",
        SWEEPS,
        202,
        json={"strategy_id": strategy.id, "chunk_size": 2, "grid": {"fast": [4, 6, 8, 10], "slow": [20, 30, 40, 50]}},
    )
    path = f"{SWEEPS}/{sweep['id']}"
    poll(
        api,
        path,
        lambda doc: doc["progress"]["chunks_done"] >= 2 and doc["progress"]["chunks_running"] >= 1,
        30,
        "some chunks to be done and some running",
    )
    first.kill()
    before = {chunk["index"]: chunk for chunk in db.sweep_chunks.find({})}
    unfinished = [index for index, chunk in before.items() if chunk["state"] != "done"]
    assert 0 < len(unfinished) < len(before) == 8

    resumed = api("post", f"{path}/resume", 202)  # before a worker could finish any of them
    assert resumed["resumed_chunks"] == len(unfinished)
    second = start_worker()
    done = poll(api, path, lambda doc: doc["state"] not in ("queued", "running"), 60, "the resumed sweep")
    assert done["state"] == "done" and done["progress"]["combos_done"] == 16

    for chunk in db.sweep_chunks.find({}):
        earlier = before[chunk["index"]]
        if earlier["state"] == "done":  # not run again
            assert (chunk["attempts"], chunk["finished_at"], chunk["worker"]) == (
                1,
                earlier["finished_at"],
                earlier["worker"],
            )
        else:  # run to the end once more, on the new worker
            assert chunk["state"] == "done" and chunk["worker"]["hostname"] == second.hostname
            assert chunk["attempts"] == earlier["attempts"] + 1
    assert sorted(result["combo"] for result in db.sweep_results.find({})) == list(range(16))
