"""One backtest run executed by id on a worker (``tasks.backtests.submit_backtest`` creates it ``queued``).

An execution claims the run (a new attempt), loads the candles, backtests,
and stores the result. The broker may deliver the same task again while an
execution still runs (a whole worker died, or the visibility timeout passed):
every delivery runs, none invalidates another, and **the first to finish
wins**. Each stage change is a check that the run is still running (not
cancelled, not finished by another execution), and the final write is
conditional on the same. So executing a run twice, concurrently or after a
killed execution, leaves exactly one complete result, and a run longer than
the visibility timeout still finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo.database import Database

from backtests.defaults import STAGES
from backtests.runs import (
    DEFAULT_HEARTBEAT_S,
    DONE,
    SKIPPED,
    STOPPED,
    Beat,
    Heartbeat,
    Report,
    Stopwatch,
    announce,
    guarded,
    load_candles,
    target_log_context,
    target_spec,
)
from strategies.backtest import BacktestResult, run_backtest
from strategies.curves import buy_and_hold, drawdown, monthly_returns
from tickflow.storage.backtest_results import BacktestRepository, json_number, trade_columns

log = logging.getLogger(__name__)


def run_backtest_job(
    db: Database,
    run_id: str,
    worker: Mapping[str, Any],
    report: Report | None = None,
    keepalive: Beat | None = None,
    heartbeat_s: float = DEFAULT_HEARTBEAT_S,
) -> str:
    """Execute run ``run_id``; returns ``done``, ``failed``, ``stopped`` or ``skipped``.

    ``worker`` (host name, process id) is recorded with the attempt.
    ``keepalive`` is called with every heartbeat (every ``heartbeat_s``
    seconds) while the run executes, next to stamping the run's
    ``heartbeat_at``: the task renews its message's lease with it. Failures
    are handled by :func:`backtests.runs.guarded`. Its log lines carry the
    run's id, strategy, symbol and timeframe.
    """
    repository = BacktestRepository(db)
    doc = repository.claim(run_id, worker)
    if doc is None:
        repository.discard_stale_arrays(run_id)
        log.info("backtest skipped: finished, cancelled or deleted before this delivery", extra={"run_id": run_id})
        return SKIPPED
    oid: ObjectId = doc["_id"]
    attempt: int = doc["attempts"]

    def enter(stage: str) -> bool:
        """Announce ``stage``; ``False`` if the run was cancelled or finished by another execution meanwhile."""
        announce(report, stage)
        return repository.advance(oid, attempt, {"stage": stage, "step": STAGES.index(stage) + 1, "steps": len(STAGES)})

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
            result = run_backtest(spec, candles, cash=doc["cash"], symbol=doc["symbol"])
            hold = buy_and_hold(candles.open, candles.close, doc["cash"], spec.costs)
        if not enter("storing"):
            return STOPPED
        stored = repository.complete(
            oid,
            attempt,
            {**summary(result, hold), "timings": clock.seconds, "worker": dict(worker)},
            arrays(result, hold),
        )
        return DONE if stored else STOPPED

    with target_log_context(doc, run_id=run_id), Heartbeat(heartbeat_s, lambda: repository.heartbeat(oid), keepalive):
        log.info("backtest started: attempt %d", attempt)
        return guarded("backtest", execute, lambda reason: repository.fail(oid, attempt, reason))


def summary(result: BacktestResult, hold: np.ndarray) -> dict[str, Any]:
    """What the run's document holds of a result: stats, open trades, a small chart of the equity, buy-and-hold
    (``hold``, at every bar) and drawdown curves, returns by month, counts, the entries it skipped (by
    reason, the first few in full) and the loss limit that stopped it, if one did.

    The trade log and the full curves go to :func:`arrays`: a million-bar run
    can close tens of thousands of trades. The chart's points are the equity's (at most ~1,000): the three
    curves share one ``ts``; drawdown is taken on the full curve, then picked there.
    """
    chart = result.chart
    return {
        "stats": {name: json_number(value) for name, value in result.stats.items()},
        "open_trades": [trade.to_dict() for trade in result.open_trades],
        "equity_chart": {
            "ts": result.ts[chart].tolist(),
            "equity": result.equity[chart].tolist(),
            "buy_hold": hold[chart].tolist(),
            "drawdown": drawdown(result.equity)[chart].tolist(),
        },
        "monthly_returns": monthly_returns(result.ts, result.equity),
        "n_trades": len(result.trades),
        "bars": len(result.ts),
        "skipped": result.skipped.to_dict(),
        "stopped_by": result.stopped_by.to_dict() if result.stopped_by is not None else None,
    }


def arrays(result: BacktestResult, hold: np.ndarray) -> dict[str, np.ndarray]:
    """The full equity and buy-and-hold curves and the closed trades, as columns."""
    return {"ts": result.ts, "equity": result.equity, "buy_hold": hold, **trade_columns(result.trades)}
