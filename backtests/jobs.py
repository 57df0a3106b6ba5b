"""One backtest run executed by id on a worker (``tasks.backtests.submit_backtest`` creates it ``queued``).

An execution claims the run (a new attempt), loads the candles, backtests,
and stores the result; each stage change is also a check that the run was
neither cancelled nor taken over by a later attempt, and the final write is
conditional on the same. So executing a run twice, or a killed execution
followed by a redelivered one, leaves exactly one complete result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo.database import Database

from backtests.defaults import STAGES
from backtests.runs import DONE, SKIPPED, STOPPED, Report, Stopwatch, announce, guarded, load_candles, target_spec
from strategies.backtest import BacktestResult, run_backtest
from tickflow.storage.backtest_results import BacktestRepository, json_number, trade_columns


def run_backtest_job(db: Database, run_id: str, worker: Mapping[str, Any], report: Report | None = None) -> str:
    """Execute run ``run_id``; returns ``done``, ``failed``, ``stopped`` or ``skipped``.

    ``worker`` (host name, process id) is recorded with the attempt. Failures
    are handled by :func:`backtests.runs.guarded`.
    """
    repository = BacktestRepository(db)
    doc = repository.claim(run_id, worker)
    if doc is None:
        return SKIPPED
    oid: ObjectId = doc["_id"]
    attempt: int = doc["attempts"]

    def enter(stage: str) -> bool:
        """Announce ``stage``; ``False`` if the run was cancelled or taken over meanwhile."""
        announce(report, stage)
        return repository.advance(oid, attempt, {"stage": stage, "step": STAGES.index(stage) + 1,
                                                 "steps": len(STAGES)})

    def execute() -> str:
        clock = Stopwatch()
        if not enter("loading"):
            return STOPPED
        with clock("load"):
            spec = target_spec(doc)
            candles = load_candles(db, doc)
        if not enter("running"):
            return STOPPED
        with clock("run"):
            result = run_backtest(spec, candles, cash=doc["cash"])
        if not enter("storing"):
            return STOPPED
        stored = repository.complete(oid, attempt, {**summary(result), "timings": clock.seconds}, arrays(result))
        return DONE if stored else STOPPED

    return guarded(execute, lambda reason: repository.fail(oid, attempt, reason))


def summary(result: BacktestResult) -> dict[str, Any]:
    """What the run's document holds of a result: stats, open trades, a small equity chart and counts.

    The trade log and the full curve go to :func:`arrays`: a million-bar run
    can close tens of thousands of trades.
    """
    times, equity = result.equity_chart
    return {
        "stats": {name: json_number(value) for name, value in result.stats.items()},
        "open_trades": [trade.to_dict() for trade in result.open_trades],
        "equity_chart": {"ts": times.tolist(), "equity": equity.tolist()},
        "n_trades": len(result.trades),
        "bars": len(result.ts),
    }


def arrays(result: BacktestResult) -> dict[str, np.ndarray]:
    """The full equity curve and the closed trades, as columns."""
    return {"ts": result.ts, "equity": result.equity, **trade_columns(result.trades)}
