"""Sweeps end to end on a real worker: ranking, constraint, sampling, failure."""

from __future__ import annotations

import itertools

import pytest
from bson import ObjectId

from strategies.backtest import run_many
from strategies.examples import load_example
from strategies.spec import validate_spec
from tests.backtests.conftest import TIMEFRAME, every_item, wait_for
from tickflow.storage.strategies import StrategyRepository

URL = "/api/v1/sweeps"


@pytest.fixture
def finished(client, auth_headers, worker):
    def wait(sweep: dict) -> dict:
        def final() -> dict | None:
            doc = client.get(f"{URL}/{sweep['id']}", headers=auth_headers).json
            return doc if doc["state"] not in ("queued", "running") else None

        return wait_for(final, 60, f"sweep {sweep['id']} to finish\n{worker.tail()}")

    return wait


def ranking(client, auth_headers, sweep_id: str, per_page: int = 50) -> list[dict]:
    return every_item(client, auth_headers, f"{URL}/{sweep_id}/results", per_page)


def test_a_grid_sweep_runs_every_set_the_constraint_allows_once_and_ranks_them_like_run_many(
    submit_sweep, finished, client, auth_headers, strategy, candles
):
    sweep = submit_sweep(
        strategy_id=strategy.id,
        grid={"fast": {"start": 5, "stop": 25, "step": 5}, "slow": [10, 20, 40]},
        constraint="$fast < $slow",
        objective="sharpe",
        chunk_size=3,
    )
    pairs = [(f, s) for f, s in itertools.product([5, 10, 15, 20, 25], [10, 20, 40]) if f < s]
    assert sweep["combos"] == len(pairs) == 9 and sweep["chunks_total"] == 3 and sweep["state"] == "queued"
    assert sweep["space"] == {"fast": [5, 10, 15, 20, 25], "slow": [10, 20, 40]}

    done = finished(sweep)
    assert done["state"] == "done" and done["finished_at"]
    assert done["progress"] == {
        "chunks_total": 3,
        "chunks_queued": 0,
        "chunks_running": 0,
        "chunks_done": 3,
        "chunks_failed": 0,
        "combos_done": 9,
    }

    expected = run_many(validate_spec(strategy.spec), candles, [{"fast": f, "slow": s} for f, s in pairs])
    by_params = {(r.params["fast"], r.params["slow"]): r.stats["sharpe"] for r in expected}
    ranked = ranking(client, auth_headers, sweep["id"], per_page=4)
    assert sorted((r["params"]["fast"], r["params"]["slow"]) for r in ranked) == sorted(pairs)
    assert [r["rank"] for r in ranked] == list(range(1, 10))
    assert [r["score"] for r in ranked] == pytest.approx(sorted(by_params.values(), reverse=True))
    for result in ranked:
        assert result["stats"]["sharpe"] == pytest.approx(by_params[result["params"]["fast"], result["params"]["slow"]])
    assert done["best"] == ranked[0]


def test_minimising_ranks_the_lowest_value_first(submit_sweep, finished, client, auth_headers, strategy, candles):
    sweep = finished(
        submit_sweep(
            strategy_id=strategy.id,
            grid={"fast": [5, 10], "slow": [30, 60]},
            objective="max_drawdown_pct",
            maximize=False,
        )
    )
    values = [r["stats"]["max_drawdown_pct"] for r in ranking(client, auth_headers, sweep["id"])]
    assert values == sorted(values) and sweep["best"]["score"] == -values[0]


def test_a_random_sweep_runs_n_sets_drawn_with_its_seed(
    submit_sweep, finished, client, auth_headers, strategy, candles
):
    grid = {"fast": {"start": 2, "stop": 30}, "slow": {"start": 31, "stop": 60}}
    first = submit_sweep(strategy_id=strategy.id, grid=grid, random={"n": 12, "seed": 42})
    second = submit_sweep(strategy_id=strategy.id, grid=grid, random={"n": 12, "seed": 42})
    unseeded = submit_sweep(strategy_id=strategy.id, grid=grid, random={"n": 12})
    assert first["combos"] == 12 and first["random"] == {"n": 12, "seed": 42}
    assert isinstance(unseeded["random"]["seed"], int)
    drawn = [
        sorted((r["params"]["fast"], r["params"]["slow"]) for r in ranking(client, auth_headers, s["id"]))
        for s in (finished(first), finished(second))
    ]
    assert drawn[0] == drawn[1] and len(set(drawn[0])) == 12


def test_a_sweep_without_candles_fails_with_the_reason(submit_sweep, finished, strategy, candles):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10]}, symbol="ETHUSDT"))
    assert sweep["state"] == "failed"
    assert sweep["error"].startswith(f"chunk 0: no ETHUSDT {TIMEFRAME} candles")


def test_resuming_a_done_sweep_is_a_409(submit_sweep, finished, client, auth_headers, strategy, candles):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5]}))
    response = client.post(f"{URL}/{sweep['id']}/resume", headers=auth_headers)
    assert response.status_code == 409 and "done" in response.json["message"]


def test_a_sweep_counts_the_entries_its_sets_skipped_and_a_set_without_trades_says_why(
    submit_sweep, finished, client, auth_headers, strategy, candles
):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10], "slow": [20, 40]}, cash=50))

    expected = run_many(validate_spec(strategy.spec), candles, [{"fast": 5, "slow": 20}], cash=50)[0]
    results = ranking(client, auth_headers, sweep["id"])
    assert all(result["stats"]["n_trades"] == 0 and result["skipped"]["size_below_step"] > 0 for result in results)
    [fast_5_slow_20] = [result for result in results if result["params"] == {"fast": 5, "slow": 20}]
    assert fast_5_slow_20["skipped"] == {"size_below_step": expected.skipped.total}
    assert fast_5_slow_20["no_trades_reason"] == expected.no_trades_reason
    assert expected.no_trades_reason.endswith(
        f"entries skipped: size below the quantity step ({expected.skipped.total:,})"
    )
    assert sweep["skipped"] == {
        "combos": 4,
        "by_reason": {"size_below_step": sum(result["skipped"]["size_below_step"] for result in results)},
    }


def test_a_sweep_whose_sets_trade_skips_nothing(submit_sweep, finished, strategy, candles):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10]}))
    assert sweep["skipped"] == {"combos": 0, "by_reason": {}} and sweep["best"]["no_trades_reason"] is None


STOPPED = {**load_example("sma_cross"), "name": "stopped", "params": {"fast": 10, "slow": 20, "stop": 0.05}}
STOPPED["risk"] = {"stop_loss": {"fraction": "$stop"}}


def test_the_heatmap_lays_the_objective_over_two_params_with_the_others_at_the_best_sets_values(
    submit_sweep, finished, client, auth_headers, db, redis, candles
):
    strategy = StrategyRepository(db, redis).create(STOPPED)
    grid = {"fast": [10, 5, 15], "slow": [20, 40], "stop": [0.02, 0.05]}
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid=grid, constraint="$fast < $slow", objective="sharpe"))
    sets = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    sharpe = {
        tuple(result.params[name] for name in grid): result.stats["sharpe"]
        for result in run_many(validate_spec(STOPPED), candles, sets)
    }

    response = client.get(f"{URL}/{sweep['id']}/heatmap?x=fast&y=slow", headers=auth_headers)
    assert response.status_code == 200, response.json
    body = response.json
    best = sweep["best"]["params"]
    assert body["fixed"] == {"stop": best["stop"]} and body["objective"] == "sharpe" and body["complete"]
    assert body["x"] == {"param": "fast", "values": [5, 10, 15]} and body["y"] == {"param": "slow", "values": [20, 40]}
    expected = [[sharpe[fast, slow, best["stop"]] for fast in (5, 10, 15)] for slow in (20, 40)]
    assert body["z"] == [pytest.approx(row) for row in expected]
    assert body["best"] == pytest.approx(
        {"x": best["fast"], "y": best["slow"], "value": sweep["best"]["stats"]["sharpe"]}
    )


def test_the_heatmap_can_show_another_objective_with_its_own_best(
    submit_sweep, finished, client, auth_headers, db, redis, candles
):
    strategy = StrategyRepository(db, redis).create(STOPPED)
    grid = {"fast": [5, 10], "slow": [20, 40], "stop": [0.02, 0.05]}
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid=grid))
    body = client.get(f"{URL}/{sweep['id']}/heatmap?x=slow&y=stop&objective=return_pct", headers=auth_headers).json
    results = ranking(client, auth_headers, sweep["id"])
    top = max(results, key=lambda result: result["stats"]["return_pct"])
    assert body["objective"] == "return_pct" and body["fixed"] == {"fast": top["params"]["fast"]}
    assert body["best"] == {"x": top["params"]["slow"], "y": top["params"]["stop"], "value": top["stats"]["return_pct"]}
    cells = {
        (r["params"]["slow"], r["params"]["stop"]): r["stats"]["return_pct"]
        for r in results
        if r["params"]["fast"] == top["params"]["fast"]
    }
    assert body["z"] == [[cells[slow, stop] for slow in (20, 40)] for stop in (0.02, 0.05)]


def test_cells_the_constraint_left_out_are_null(submit_sweep, finished, client, auth_headers, strategy, candles):
    sweep = finished(
        submit_sweep(strategy_id=strategy.id, grid={"fast": [10, 30], "slow": [20, 40]}, constraint="$fast < $slow")
    )
    body = client.get(f"{URL}/{sweep['id']}/heatmap?x=fast&y=slow", headers=auth_headers).json
    assert body["z"][0][1] is None and None not in (body["z"][0][0], body["z"][1][0], body["z"][1][1])
    assert body["fixed"] == {}


@pytest.mark.parametrize(
    "query, field, words",
    [
        ("x=fats&y=slow", "x", "did you mean 'fast'"),
        ("x=fast&y=fast", "y", "another parameter"),
        ("x=fast&y=slow&objective=sharp", "objective", "did you mean 'sharpe'"),
        ("x=fast", "y", "Missing"),
        ("x=fast&y=slow&colour=red", "colour", ""),
    ],
)
def test_a_heatmap_the_sweep_cannot_draw_is_a_422_naming_the_field(
    submit_sweep, finished, client, auth_headers, strategy, candles, query, field, words
):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10], "slow": [20, 40]}))
    response = client.get(f"{URL}/{sweep['id']}/heatmap?{query}", headers=auth_headers)
    assert response.status_code == 422, response.json
    assert words in " ".join(response.json["errors"]["query"][field])


def test_deleting_a_done_sweep_removes_it_with_its_chunks_and_results(
    submit_sweep, finished, client, auth_headers, strategy, candles, db
):
    sweep = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10]}, chunk_size=1))
    kept = finished(submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 10]}))
    assert db.sweep_results.count_documents({}) == 4
    response = client.delete(f"{URL}/{sweep['id']}", headers=auth_headers)
    assert response.status_code == 204 and response.data == b""
    for collection in (db.sweeps, db.sweep_chunks, db.sweep_results):
        assert collection.count_documents({"sweep_id": ObjectId(sweep["id"])}) == 0
    assert db.sweeps.count_documents({"_id": ObjectId(sweep["id"])}) == 0
    assert len(ranking(client, auth_headers, kept["id"])) == 2
    assert client.get(f"{URL}/{sweep['id']}", headers=auth_headers).status_code == 404
