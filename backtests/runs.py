"""What backtest runs and sweep chunks share: the target they run on, its candles, stages and outcomes.

A run's *target* is a snapshot taken at creation: the strategy's normalised
spec (with the run's parameter overrides applied), the strategy's id, name and
version, the symbol, the time range and the starting cash. Workers run the
snapshot, never the strategy as it is now, so a result stays reproducible (and
explainable) after its strategy is edited or deleted. Candles come from
MongoDB alone: a task carries an id, and everything else is read by the worker.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pymongo.errors
from pymongo.database import Database

from backtests.defaults import DEFAULT_CASH
from backtests.errors import InvalidRequest, RunFailed
from strategies.backtest import run_backtest
from strategies.candles import Candles
from strategies.domain import iso_time
from strategies.examples import load_example
from strategies.spec import SpecError, StrategySpec, validate_spec
from tickflow.logs import log_context
from tickflow.storage.candles import CandleDataError, CandleStore, normalize_symbol
from tickflow.storage.strategies import StrategyNotFound, StrategyRepository
from tickflow.synthetic import generate_candles

DEFAULT_HEARTBEAT_S = 5.0
"""How often a running execution stamps its document's ``heartbeat_at`` (and renews its message's lease)."""

log = logging.getLogger(__name__)

# What an execution of a run or a chunk came to (a task returns it).
DONE = "done"
FAILED = "failed"
STOPPED = "stopped"
"""Cancelled, or finished first by another execution of the same work: this execution's result was not kept."""
SKIPPED = "skipped"
"""Nothing to do: finished, cancelled or deleted before the task arrived."""

Report = Callable[[str], None]
"""Told the name of each stage (``loading``, ``running``, ``storing``) as an execution enters it."""
Beat = Callable[[], object]
"""Called every heartbeat while an execution runs: stamps the document, renews the broker's lease on the message."""


def resolve_target(
    strategies: StrategyRepository,
    strategy_id: str,
    *,
    params: Mapping[str, Any] | None = None,
    symbol: str | None = None,
    start: int | None = None,
    end: int | None = None,
    cash: float = DEFAULT_CASH,
) -> dict[str, Any]:
    """The snapshot fields of a run, or :class:`InvalidRequest` naming every field that is wrong.

    ``symbol`` defaults to the spec's first; ``start``/``end`` (epoch ms,
    ``end`` excluded) are optional. Whether candles exist is only known when
    the run loads them.
    """
    try:
        strategy = strategies.get(strategy_id)
    except StrategyNotFound:
        raise InvalidRequest({"strategy_id": ["no strategy has this id"]}) from None
    errors: dict[str, list[str]] = {}
    spec = validate_spec(strategy.spec)
    if params:
        try:
            spec = spec.with_params(params)
        except SpecError as exc:
            for issue in exc.errors:
                where = issue.path if issue.path.startswith("params.") else "params"
                errors.setdefault(where, []).append(issue.message if where == issue.path else str(issue))
    try:
        symbol = normalize_symbol(symbol if symbol is not None else spec.symbols[0])
    except CandleDataError as exc:
        errors["symbol"] = [str(exc)]
    if start is not None and end is not None and end <= start:
        errors["end"] = ["must be after start"]
    if not (isinstance(cash, (int, float)) and math.isfinite(cash) and cash > 0):
        errors["cash"] = ["must be a positive number"]
    if errors:
        raise InvalidRequest(errors)
    return {
        "strategy_id": strategy.id,
        "strategy_name": strategy.name,
        "strategy_version": strategy.version,
        "spec": spec.to_dict(),
        "params": dict(spec.params),
        "symbol": symbol,
        "timeframe": spec.timeframe,
        "start": start,
        "end": end,
        "cash": float(cash),
    }


def target_spec(target: Mapping[str, Any]) -> StrategySpec:
    """The snapshot's spec; ``RunFailed`` if it no longer validates (the spec language changed since)."""
    try:
        return validate_spec(target["spec"])
    except SpecError as exc:
        raise RunFailed(f"the strategy snapshot no longer validates: {'; '.join(map(str, exc.errors))}") from None


def load_candles(db: Database, target: Mapping[str, Any]) -> Candles:
    """The target's candles from MongoDB; ``RunFailed`` saying what is missing when there are none."""
    symbol, timeframe, start, end = (target[name] for name in ("symbol", "timeframe", "start", "end"))
    candles = CandleStore(db).load(symbol, timeframe, start, end)
    if not len(candles):
        within = ""
        if start is not None:
            within += f" from {iso_time(start)}"
        if end is not None:
            within += f" before {iso_time(end)}"
        raise RunFailed(
            f"no {symbol} {timeframe} candles{within}: import some with `tickflow import-candles` "
            f"or POST /api/v1/candles/{symbol}/{timeframe}"
        )
    return candles


class Stopwatch:
    """Seconds spent in each named step of an execution, for the stored document."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[f"{step}_s"] = round(time.perf_counter() - started, 4)


def target_log_context(target: Mapping[str, Any], **ids: str) -> log_context:
    """``ids`` and the strategy, symbol and timeframe a run or sweep works on, for every line logged while it runs."""
    return log_context(**ids, strategy_id=target["strategy_id"], symbol=target["symbol"], timeframe=target["timeframe"])


def guarded(what: str, execute: Callable[[], str], fail: Callable[[str], object]) -> str:
    """``execute()``'s outcome, with failures recorded by ``fail(reason)`` as runs and chunks record them.

    A reason a user can act on (:class:`RunFailed`: no candles...) fails the
    work and is its outcome. MongoDB being unreachable propagates untouched,
    for the task to retry. Anything else fails the work as an internal error
    and propagates too, for the worker to log its traceback. One line says
    how ``what`` ("backtest", "sweep chunk") ended.
    """
    started = time.perf_counter()
    try:
        outcome = execute()
    except RunFailed as exc:
        fail(str(exc))
        log.warning("%s failed: %s", what, exc)
        return FAILED
    except pymongo.errors.ConnectionFailure:
        raise
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        fail(reason)
        log.error("%s failed: %s", what, reason)
        raise
    log.info("%s %s in %.2f s", what, outcome, time.perf_counter() - started)
    return outcome


def announce(report: Report | None, stage: str) -> None:
    """Tell ``report`` (the task's ``PROGRESS`` state) that ``stage`` begins."""
    if report is not None:
        report(stage)


def warm_up() -> None:
    """Load the backtester's compiled (numba) code by backtesting a few generated bars.

    Loading it takes ~0.5 s per process; a worker does it before its pool
    forks, so no job pays for it.
    """
    run_backtest(validate_spec(load_example("sma_cross")), generate_candles(300, "1h"))


class Heartbeat:
    """While the ``with`` block runs, call each of ``beats`` every ``interval_s`` seconds on a daemon thread.

    A beat that raises is logged and tried again at the next interval: a
    missed beat only risks a redelivery, which the first-finisher-wins rule
    makes harmless. The thread logs with the log fields of the code that
    created the heartbeat (the run's ids).
    """

    def __init__(self, interval_s: float, *beats: Beat | None) -> None:
        self.interval_s = interval_s
        self.beats = [beat for beat in beats if beat is not None]
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._loop,), name="tickflow-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        if self.beats and self.interval_s > 0:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            for beat in self.beats:
                try:
                    beat()
                except Exception:  # a heartbeat must never kill the execution
                    log.warning("heartbeat failed", exc_info=True)
