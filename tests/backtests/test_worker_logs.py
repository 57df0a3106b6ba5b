"""A backtest worker's own log: one logfmt line per event, each with the task and what it was about."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bson import ObjectId

from tests.backtests.conftest import SYMBOL, TIMEFRAME, new_backtest_worker
from tests.celery_workers import CeleryWorker, wait_for
from tests.ops.test_logs import parse_logfmt
from tickflow.storage.schema import BACKTEST_RESULTS


@pytest.fixture
def worker(services, tmp_path) -> Iterator[CeleryWorker]:
    started = new_backtest_worker(tmp_path)
    yield started
    started.kill()


def test_a_workers_log_has_one_line_per_event_with_the_task_and_strategy_of_a_backtest(
    client,
    auth_headers,
    db,
    worker,
    strategy,
    candles,
):
    created = client.post("/api/v1/backtests", json={"strategy_id": strategy.id}, headers=auth_headers)
    assert created.status_code == 202, created.json
    run_id = created.json["id"]
    task_id = db[BACKTEST_RESULTS].find_one({"_id": ObjectId(run_id)})["task_id"]

    def task_lines() -> list[dict[str, str]] | None:
        # The worker's stdout (Celery's start-up banner) goes to the same file: log lines start with ts=,
        # and each one parses whole.
        events = [parse_logfmt(line) for line in worker.log_path.read_text().splitlines() if line.startswith("ts=")]
        lines = [fields for fields in events if fields.get("task_id") == task_id]
        return lines if any("succeeded in" in fields["msg"] for fields in lines) else None

    lines = wait_for(task_lines, 60, f"backtest {run_id} to succeed\n{worker.tail()}")
    assert {(fields["proc"], fields["task"]) for fields in lines} == {(worker.hostname, "tasks.backtests.run")}
    expected = [
        rf"Task tasks\.backtests\.run\[{task_id}\] received",
        "backtest started: attempt 1",
        r"backtest done in [\d.]+ s",
        rf"Task tasks\.backtests\.run\[{task_id}\] succeeded in .*",
    ]
    assert len(lines) == len(expected), lines
    for fields, pattern in zip(lines, expected):
        assert re.fullmatch(pattern, fields["msg"]), fields
    for fields in lines[1:3]:  # the job's own lines
        assert fields["logger"].startswith("backtests.")
        assert (fields["run_id"], fields["strategy_id"], fields["symbol"], fields["timeframe"]) == (
            run_id,
            strategy.id,
            SYMBOL,
            TIMEFRAME,
        )
