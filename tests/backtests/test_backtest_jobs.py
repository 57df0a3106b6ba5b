"""Backtest runs end to end: the API queues, a real worker subprocess executes, the API reads the results."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
from bson import BSON, ObjectId
from celery.result import AsyncResult

from app.series import sampled
from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.spec import validate_spec
from tasks.backtests import run as run_task
from tests.backtests.conftest import SYMBOL, TIMEFRAME, every_item, wait_for
from tests.conftest import ROOT
from tickflow.storage.backtest_results import TRADE_COLUMNS
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles

URL = "/api/v1/backtests"


@pytest.fixture
def finished(client, auth_headers, worker):
    """POST a run and return it once its state is final."""

    def run(**body) -> dict:
        created = client.post(URL, json=body, headers=auth_headers)
        assert created.status_code == 202, created.json
        location = created.headers["Location"]

        def final() -> dict | None:
            doc = client.get(location, headers=auth_headers).json
            return doc if doc["state"] not in ("queued", "running") else None

        return wait_for(final, 30, f"backtest {created.json['id']} to finish\n{worker.tail()}")

    return run


def all_trades(client, auth_headers, run_id: str, per_page: int) -> list[dict]:
    return every_item(client, auth_headers, f"{URL}/{run_id}/trades", per_page)


def test_the_celery_app_registers_the_backtest_tasks():
    # What ``celery -A tasks worker`` does before consuming, in a fresh interpreter.
    script = "from tasks import app; app.loader.import_default_modules(); print(sorted(app.tasks))"
    listed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "tasks.backtests.run" in listed and "tasks.backtests.sweep_chunk" in listed


def test_a_worker_runs_a_queued_backtest_and_its_results_match_run_backtest(
    finished, client, auth_headers, strategy, candles
):
    run = finished(strategy_id=strategy.id, params={"fast": 5})
    expected = run_backtest(validate_spec(strategy.spec).with_params({"fast": 5}), candles, cash=10_000)
    assert run["state"] == "done" and run["attempts"] == 1 and run["progress"] == {"stage": "done"}
    assert run["bars"] == len(candles) and run["n_trades"] == len(expected.trades) > 20
    assert run["stats"] == pytest.approx(expected.to_dict()["stats"], nan_ok=True)
    assert run["open_trades"] == [trade.to_dict() for trade in expected.open_trades]
    assert run["equity_chart"]["ts"] == expected.ts[expected.chart].tolist()
    assert run["equity_chart"]["equity"] == expected.equity[expected.chart].tolist()
    assert set(run["timings"]) == {"load_s", "run_s"} and run["worker"]["pid"] > 0

    assert all_trades(client, auth_headers, run["id"], per_page=7) == expected.trades.to_dicts()
    curve = client.get(f"{URL}/{run['id']}/equity", headers=auth_headers).json
    assert curve["ts"] == expected.ts.tolist() and curve["equity"] == expected.equity.tolist()


def test_a_run_stores_buy_and_hold_from_the_first_open_with_the_entry_costs_and_drawdown_beside_its_equity(
    finished, client, auth_headers, db, redis, candles
):
    doc = {**load_example("sma_cross"), "name": "costly", "costs": {"commission": 0.001, "slippage": 0.0005}}
    strategy = StrategyRepository(db, redis).create(doc)
    run = finished(strategy_id=strategy.id, cash=5_000)
    expected = run_backtest(validate_spec(doc), candles, cash=5_000)
    units = 5_000 / (candles.open[0] * 1.0005 * 1.001)
    chart, picked = run["equity_chart"], expected.chart
    assert chart["buy_hold"] == pytest.approx((units * candles.close[picked]).tolist(), rel=1e-12)
    peaks = np.maximum.accumulate(expected.equity)
    assert chart["drawdown"] == pytest.approx((expected.equity / peaks - 1)[picked].tolist(), abs=1e-15)
    assert min(chart["drawdown"]) == pytest.approx(run["stats"]["max_drawdown_pct"] / 100)

    curve = client.get(f"{URL}/{run['id']}/equity", headers=auth_headers).json
    assert curve["buy_hold"] == pytest.approx((units * candles.close).tolist(), rel=1e-12)
    assert curve["drawdown"] == pytest.approx((expected.equity / peaks - 1).tolist(), abs=1e-15)


def test_returns_per_month_run_from_the_end_of_the_month_before_and_add_up_to_the_years_and_the_whole_run(
    finished, strategy, candles
):
    run = finished(strategy_id=strategy.id)
    expected = run_backtest(validate_spec(strategy.spec), candles, cash=10_000)
    at_month_end: dict[tuple[int, int], float] = {}
    for ts, equity in zip(expected.ts.tolist(), expected.equity.tolist(), strict=True):
        moment = datetime.fromtimestamp(ts / 1000, UTC)
        at_month_end[moment.year, moment.month] = equity  # the last close of each month wins
    before = float(expected.equity[0])
    table = {row["year"]: row for row in run["monthly_returns"]}
    assert sorted(table) == sorted({year for year, _ in at_month_end})
    growth = 1.0
    for (year, month), equity in at_month_end.items():
        assert table[year]["months"][month - 1] == pytest.approx(equity / before - 1, abs=1e-12)
        growth *= equity / before
        before = equity
    assert all(len(row["months"]) == 12 for row in table.values())
    assert growth - 1 == pytest.approx(run["stats"]["return_pct"] / 100)
    years = np.prod([1 + row["total"] for row in table.values()]) - 1
    assert years == pytest.approx(run["stats"]["return_pct"] / 100)


def test_the_equity_curve_can_be_cut_to_a_range_and_sampled_to_at_most_max_points(
    finished, client, auth_headers, strategy, candles
):
    run = finished(strategy_id=strategy.id)
    expected = run_backtest(validate_spec(strategy.spec), candles, cash=10_000)
    start, end = int(candles.ts[300]), int(candles.ts[1500])

    def curve(query: str) -> dict:
        response = client.get(f"{URL}/{run['id']}/equity?{query}", headers=auth_headers)
        assert response.status_code == 200, response.json
        return response.json

    cut = curve(f"start={start}&end={end}")
    assert cut["ts"] == expected.ts[300:1500].tolist() and cut["equity"] == expected.equity[300:1500].tolist()
    peaks = np.maximum.accumulate(expected.equity)  # the peak before the range counts
    assert cut["drawdown"] == pytest.approx((expected.equity / peaks - 1)[300:1500].tolist(), abs=1e-15)

    few = curve(f"start={start}&end={end}&max_points=100")
    kept = 300 + sampled(expected.ts[300:1500], 100)
    assert 90 <= len(few["ts"]) <= 100 and few["ts"][-1] == int(candles.ts[1499])
    assert few["ts"] == expected.ts[kept].tolist() and few["equity"] == expected.equity[kept].tolist()
    assert set(few) == {"ts", "equity", "buy_hold", "drawdown"}


@pytest.mark.parametrize(
    "query, field",
    [("max_points=1", "max_points"), ("max_points=x", "max_points"), ("start=5&end=4", "end"), ("end=soon", "end")],
)
def test_bad_equity_arguments_are_a_422_naming_the_field(
    finished, client, auth_headers, strategy, candles, query, field
):
    run = finished(strategy_id=strategy.id)
    response = client.get(f"{URL}/{run['id']}/equity?{query}", headers=auth_headers)
    assert response.status_code == 422 and field in response.json["errors"]["query"], response.json


def test_a_run_returns_the_entries_it_skipped_by_reason_with_the_first_few(finished, strategy, candles):
    run = finished(strategy_id=strategy.id, cash=50)  # half a unit at ~100: nothing in whole units

    expected = run_backtest(validate_spec(strategy.spec), candles, cash=50).skipped.to_dict()
    assert run["state"] == "done" and run["n_trades"] == 0
    assert run["skipped"] == expected
    assert run["skipped"]["by_reason"] == {"size_below_step": run["skipped"]["total"]} and len(expected["first"]) == 5
    assert set(run["skipped"]["first"][0]) == {"time", "bar", "side", "price", "equity", "reason"}


def test_a_run_that_trips_its_daily_loss_limit_stops_trading_and_says_where(
    finished, client, auth_headers, db, redis, candles
):
    doc = {**load_example("sma_cross"), "name": "limited", "risk": {"limits": {"max_daily_loss": 0.01}}}
    strategy = StrategyRepository(db, redis).create(doc)

    run = finished(strategy_id=strategy.id)

    expected = run_backtest(validate_spec(doc), candles)
    assert expected.stopped_by is not None and expected.stopped_by.bar < len(candles) // 2
    assert run["stopped_by"] == expected.stopped_by.to_dict() and run["stopped_by"]["limit"] == "max_daily_loss"
    trades = client.get(f"{URL}/{run['id']}/trades?per_page=1000", headers=auth_headers).json["items"]
    assert trades == expected.trades.to_dicts() and trades[-1]["exit_reason"] == "limit"
    assert trades[-1]["exit_bar"] == expected.stopped_by.bar + 1  # the next open; nothing after it
    assert not run["open_trades"]


def test_a_run_sizes_on_the_step_its_symbol_has_in_the_spec(finished, db, redis, candles):
    doc = {**load_example("sma_cross"), "name": "fractional", "sizing": {"step": {SYMBOL: 0.001, "*": 1}}}
    strategy = StrategyRepository(db, redis).create(doc)

    run = finished(strategy_id=strategy.id, cash=50)

    expected = run_backtest(validate_spec(doc), candles, cash=50, symbol=SYMBOL)
    assert run["n_trades"] == len(expected.trades) > 10 and run["skipped"]["total"] == 0
    assert run["stats"]["final_equity"] == pytest.approx(expected.stats["final_equity"])
    assert all(size < 1 and round(size, 3) == size for size in expected.trades.size)


def test_a_range_runs_on_the_candles_inside_it_only(finished, strategy, candles):
    start, end = int(candles.ts[100]), int(candles.ts[900])
    run = finished(strategy_id=strategy.id, start=start, end=end)
    assert run["state"] == "done" and run["bars"] == 800
    assert (run["stats"]["start"], run["stats"]["end"]) == (start, int(candles.ts[899]))


def test_a_run_without_candles_fails_saying_what_is_missing(finished, strategy, candles):
    run = finished(strategy_id=strategy.id, symbol="ETHUSDT")
    assert run["state"] == "failed" and run["progress"]["stage"] == "loading"
    assert run["error"].startswith(f"no ETHUSDT {TIMEFRAME} candles: import some")
    late = finished(strategy_id=strategy.id, start="2030-01-01T00:00:00Z")
    assert late["error"].startswith(f"no {SYMBOL} {TIMEFRAME} candles from 2030-01-01T00:00:00Z: ")


def test_deleting_a_done_run_removes_it_with_its_trades_and_curves(
    finished, client, auth_headers, strategy, candles, db
):
    run = finished(strategy_id=strategy.id)
    kept = finished(strategy_id=strategy.id, params={"fast": 5})
    assert db.backtest_arrays.count_documents({"owner": ObjectId(run["id"])}) > 0
    response = client.delete(f"{URL}/{run['id']}", headers=auth_headers)
    assert response.status_code == 204 and response.data == b""
    assert db.backtest_results.count_documents({"_id": ObjectId(run["id"])}) == 0
    assert db.backtest_arrays.count_documents({"owner": ObjectId(run["id"])}) == 0
    assert client.get(f"{URL}/{run['id']}", headers=auth_headers).status_code == 404
    assert client.get(f"{URL}/{kept['id']}/equity", headers=auth_headers).status_code == 200


def test_running_a_done_run_again_changes_nothing(finished, client, auth_headers, strategy, candles, db):
    run = finished(strategy_id=strategy.id)
    assert run_task.apply_async((run["id"],), queue="backtests").get(timeout=20) == {
        "id": run["id"],
        "outcome": "skipped",
    }
    assert client.get(f"{URL}/{run['id']}", headers=auth_headers).json == run
    assert db.backtest_arrays.count_documents({"attempt": {"$ne": 1}}) == 0


def test_the_task_returns_the_runs_outcome(finished, strategy, candles):
    run = finished(strategy_id=strategy.id)
    assert AsyncResult(run["task_id"]).get(timeout=10) == {"id": run["id"], "outcome": "done"}


def test_a_million_bar_run_keeps_its_curve_and_trades_outside_its_document(
    finished, client, auth_headers, strategy, db, redis
):
    bars = generate_candles(1_000_000, "1m", seed=5)
    CandleStore(db).upsert("MILLION", "1m", bars)
    spec = {**strategy.spec, "timeframe": "1m", "name": "minutes"}
    minutes = StrategyRepository(db, redis).create(spec)
    run = finished(strategy_id=minutes.id, symbol="MILLION")
    assert run["state"] == "done" and run["bars"] == 1_000_000 and len(run["equity_chart"]["ts"]) <= 1_000
    stored = db.backtest_results.find_one({})
    assert len(BSON.encode(stored)) < 100_000
    parts = list(db.backtest_arrays.find({"name": "equity"}, {"data": 0}).sort("first", 1))
    assert [(part["first"], part["end"]) for part in parts] == [(0, 524_288), (524_288, 1_000_000)]
    expected = run_backtest(validate_spec(spec), bars)
    curve = client.get(f"{URL}/{run['id']}/equity", headers=auth_headers).json
    assert np.array_equal(curve["equity"], expected.equity)
    last_page = client.get(
        f"{URL}/{run['id']}/trades?per_page=1000&page={run['n_trades'] // 1000 + 1}", headers=auth_headers
    ).json
    assert last_page["items"][-1] == expected.trades[len(expected.trades) - 1].to_dict()
    assert set(TRADE_COLUMNS) == {
        name.removeprefix("trades.") for name in db.backtest_arrays.distinct("name") if name.startswith("trades.")
    }
