"""Sweep requests without any worker: planning, refusals, listing and cancelling, before anything runs."""

from __future__ import annotations

import pytest

from strategies.examples import load_example
from tests.backtests.conftest import SYMBOL
from tickflow.storage.strategies import StrategyRepository

URL = "/api/v1/sweeps"


def test_a_sweep_is_planned_into_chunks_and_answered_202_with_its_location(client, auth_headers, strategy, db):
    response = client.post(
        URL,
        json={
            "strategy_id": strategy.id,
            "grid": {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": {"start": 20, "stop": 200, "step": 20}},
            "constraint": "$fast < $slow",
        },
        headers=auth_headers,
    )
    assert response.status_code == 202, response.json
    sweep = response.json
    assert response.headers["Location"] == f"{URL}/{sweep['id']}"
    assert sweep["combos"] == sum(1 for f in range(5, 51, 5) for s in range(20, 201, 20) if f < s) == 90
    assert sweep["chunk_size"] == 8 and sweep["chunks_total"] == 12
    assert sweep["progress"]["chunks_queued"] == 12 and sweep["best"] is None
    chunks = list(db.sweep_chunks.find({}).sort("index", 1))
    assert [chunk["first_combo"] for chunk in chunks] == list(range(0, 90, 8))
    assert chunks[0]["params"][:3] == [{"fast": 5, "slow": 20}, {"fast": 5, "slow": 40}, {"fast": 5, "slow": 60}]


def test_float_ranges_include_their_stop(submit_sweep, db, redis):
    macd = StrategyRepository(db, redis).create(load_example("macd_trend_atr_stop"))
    sweep = submit_sweep(strategy_id=macd.id, grid={"atr_stop": {"start": 1, "stop": 2, "step": 0.25}, "atr_trail": 3})
    assert sweep["space"] == {"atr_stop": [1.0, 1.25, 1.5, 1.75, 2.0], "atr_trail": [3]}


def test_the_list_shows_sweeps_newest_first_with_their_progress(submit_sweep, client, auth_headers, strategy):
    ids = [submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 6]})["id"] for _ in range(2)]
    client.delete(f"{URL}/{ids[0]}", headers=auth_headers)
    listed = client.get(f"{URL}?state=cancelled", headers=auth_headers).json
    assert [item["id"] for item in listed["items"]] == [ids[0]] and listed["total"] == 1
    everything = client.get(URL, headers=auth_headers).json["items"]
    assert [item["id"] for item in everything] == ids[::-1]
    assert "spec" not in everything[0] and everything[0]["progress"]["chunks_total"] == 1


def test_a_cancelled_sweep_stays_cancelled_and_cannot_be_resumed(client, auth_headers, submit_sweep, strategy):
    sweep = submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 6]})
    cancelled = client.delete(f"{URL}/{sweep['id']}", headers=auth_headers)
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert client.post(f"{URL}/{sweep['id']}/resume", headers=auth_headers).status_code == 409


def test_deleting_a_cancelled_sweep_removes_it_with_its_chunks(client, auth_headers, submit_sweep, strategy, db):
    sweep = submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 6]}, chunk_size=1)
    assert client.delete(f"{URL}/{sweep['id']}", headers=auth_headers).status_code == 200
    removed = client.delete(f"{URL}/{sweep['id']}", headers=auth_headers)
    assert removed.status_code == 204 and removed.data == b""
    assert db.sweeps.count_documents({}) == 0 and db.sweep_chunks.count_documents({}) == 0
    assert client.get(f"{URL}/{sweep['id']}", headers=auth_headers).status_code == 404
    assert client.delete(f"{URL}/{sweep['id']}", headers=auth_headers).status_code == 404


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"grid": {}}, "grid", "at least one parameter"),
        ({"grid": {"fst": [5]}}, "grid.fst", "did you mean 'fast'"),
        ({"grid": {"fast": [5, "x"]}}, "grid.fast", "numbers"),
        ({"grid": {"fast": [5, 3.5]}}, "grid.fast", "whole number"),
        ({"grid": {"fast": {"start": 10, "stop": 5}}}, "grid.fast", "stop >= start"),
        ({"grid": {"fast": {"start": 1, "stop": 5000}}}, "grid.fast", "at most 1,000"),
        ({"grid": {"fast": {"start": 1, "stop": 500}, "slow": {"start": 1, "stop": 500}}}, "grid", "at most 100,000"),
        ({"constraint": "$fast <"}, "constraint", "column"),
        ({"constraint": "close > 3"}, "constraint", "parameters only"),
        ({"constraint": "$fats < $slow"}, "constraint", "unknown parameter $fats"),
        ({"constraint": "$fast > 100"}, "constraint", "no point of the grid"),
        ({"objective": "sharp"}, "objective", "did you mean 'sharpe'"),
        ({"random": {"n": 0}}, "random.n", "whole number"),
        ({"random": {"count": 5}}, "random", "expected"),
        ({"chunk_size": 0}, "chunk_size", ""),
        ({"symbol": "no symbol"}, "symbol", ""),
        ({"strategy_id": "0" * 24}, "strategy_id", "no strategy"),
        ({"colour": "red"}, "colour", ""),
    ],
)
def test_an_invalid_sweep_is_a_422_naming_the_field_and_nothing_is_queued(
    client, auth_headers, strategy, db, body, field, words
):
    request = {"strategy_id": strategy.id, "grid": {"fast": [5, 10], "slow": [20, 30]}, **body}
    response = client.post(URL, json=request, headers=auth_headers)
    assert response.status_code == 422, response.json
    messages = response.json["errors"]["json"][field]
    assert any(words in message for message in messages), messages
    assert db.sweeps.count_documents({}) == 0 and db.sweep_chunks.count_documents({}) == 0


def test_the_symbol_defaults_to_the_strategys_first(submit_sweep, strategy):
    sweep = submit_sweep(strategy_id=strategy.id, grid={"fast": [5]})
    assert (sweep["symbol"], sweep["timeframe"], sweep["objective"], sweep["maximize"]) == (
        SYMBOL,
        "1h",
        "sharpe",
        True,
    )


def test_the_heatmap_of_a_sweep_not_done_answers_the_results_so_far_flagged_incomplete(
    client, auth_headers, submit_sweep, strategy
):
    sweep = submit_sweep(strategy_id=strategy.id, grid={"fast": [5, 6], "slow": [20, 30, 40]})
    response = client.get(f"{URL}/{sweep['id']}/heatmap?x=slow&y=fast", headers=auth_headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["state"], body["complete"], body["best"], body["fixed"]) == ("queued", False, None, {})
    assert body["z"] == [[None, None, None], [None, None, None]] and body["x"]["values"] == [20, 30, 40]
    assert client.get(f"{URL}/{'0' * 24}/heatmap?x=slow&y=fast", headers=auth_headers).status_code == 404
