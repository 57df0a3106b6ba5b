"""Parameter sweeps: a grid (or a seeded random sample of it) of parameter sets, run in chunks, ranked.

Planning happens when a sweep is created, so that every mistake is a 422
before anything is queued: parameter names and values are checked against
the strategy, the constraint (``$fast < $slow``) is compiled by the rule
language (``strategies.rules``; nothing is ever evaluated as Python) and
applied, the objective must be a stat a backtest reports, and the number of
parameter sets is capped. The sets are then cut into chunks, each the work of
one task: a chunk loads the candles once and runs its sets with
:func:`strategies.backtest.run_many`, which computes each distinct indicator
once for all of them. Consecutive sets share their leading parameters'
values (the first parameter of the grid varies slowest), so a chunk shares
much. There are many more chunks than workers, so adding workers speeds a
sweep up with nothing to configure.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from pymongo.database import Database

from backtests.defaults import (
    DEFAULT_CASH,
    DEFAULT_MAX_CHUNK_SIZE,
    DEFAULT_OBJECTIVE,
    MAX_CHUNK_SIZE,
    MAX_COMBOS,
    MAX_GRID_POINTS,
    MAX_VALUES,
    MIN_CHUNK_SIZE,
    TARGET_CHUNKS,
)
from backtests.errors import InvalidRequest
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
    resolve_target,
    target_log_context,
    target_spec,
)
from strategies.backtest import run_many
from strategies.candles import Candles
from strategies.document import did_you_mean, joined
from strategies.domain import TradeLog
from strategies.rules import CompiledRule, RuleError, compile_rule, rule_too_long
from strategies.spec import SpecError, SpecIssue, StrategySpec
from strategies.stats import compute_stats
from tickflow.storage.backtest_results import SweepRepository, json_number
from tickflow.storage.strategies import StrategyRepository

Number = int | float
MAX_NUMBER = 2**53
"""Largest integer a grid may hold: beyond it, integers no longer convert to floats exactly."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParamSpace:
    """The grid: each swept parameter's values. Point ``i`` numbers the grid with the first name slowest."""

    names: tuple[str, ...]
    values: tuple[tuple[Number, ...], ...]

    @property
    def size(self) -> int:
        return math.prod(len(values) for values in self.values)

    def digits(self, points: np.ndarray) -> np.ndarray:
        """For each grid point, the index of each parameter's value (one column per name)."""
        columns = []
        rest = np.asarray(points, dtype=np.int64)
        for values in reversed(self.values):
            rest, digit = np.divmod(rest, len(values))
            columns.append(digit)
        return np.column_stack(columns[::-1]) if columns else np.empty((len(rest), 0), np.int64)

    def param_sets(self, points: np.ndarray) -> list[dict[str, Number]]:
        return [
            {name: self.values[k][digit] for k, (name, digit) in enumerate(zip(self.names, row))}
            for row in self.digits(points).tolist()
        ]

    def to_dict(self) -> dict[str, list[Number]]:
        return {name: list(values) for name, values in zip(self.names, self.values)}


@dataclass(frozen=True)
class Constraint:
    """A rule over parameters only (``$fast < $slow``), compiled by the rule language."""

    rule: CompiledRule
    fixed: Mapping[str, float]
    """Values of the parameters it reads that the sweep does not vary: the strategy's."""

    # CompiledRule.evaluate answers one value per bar; a constraint reads no series, so one bar will do.
    _ONE_BAR: ClassVar[dict[str, np.ndarray]] = {"bar": np.zeros(1)}

    def holds(self, params: Mapping[str, float]) -> bool:
        return bool(self.rule.evaluate(self._ONE_BAR, {**self.fixed, **params})[0])

    def mask(self, space: ParamSpace, points: np.ndarray) -> np.ndarray:
        """Whether each grid point satisfies the constraint.

        The rule is evaluated once per distinct combination of the swept
        parameters it reads (a 5-parameter grid constrained on two of them
        costs one evaluation per pair), then spread over the points.
        """
        read = [k for k, name in enumerate(space.names) if name in self.rule.params]
        digits = space.digits(points)[:, read]
        distinct, inverse = np.unique(digits, axis=0, return_inverse=True)
        verdicts = np.array(
            [
                self.holds({space.names[k]: space.values[k][digit] for k, digit in zip(read, row)})
                for row in distinct.tolist()
            ],
            dtype=bool,
        )
        return verdicts[inverse.ravel()]


@lru_cache(maxsize=1)
def stat_names() -> frozenset[str]:
    """Every stat a backtest reports, read off the stats of two bars without trades.

    Asking ``compute_stats`` itself keeps the list from drifting when a stat is added.
    """
    no_trades = TradeLog(**{field.name: np.empty(0) for field in dataclasses.fields(TradeLog)})
    return frozenset(compute_stats(np.array([0, 60_000]), np.ones(2), np.ones(2), no_trades, (), 0))


def unknown_stat(name: str) -> str:
    """What is wrong with an objective that is not a stat, with the nearest stat's name."""
    return joined(f"{name!r} is not a stat", did_you_mean(name, stat_names()))


def score(stats: Mapping[str, Any] | None, objective: str, maximize: bool) -> float | None:
    """What results are ranked by, highest first: the objective, negated when minimising; ``None`` if undefined."""
    value = (stats or {}).get(objective)
    if value is None or not math.isfinite(value):
        return None
    return float(value if maximize else -value)


def heatmap(
    space: Mapping[str, Sequence[Number]],
    results: Iterable[Mapping[str, Any]],
    x: str,
    y: str,
    objective: str,
    maximize: bool,
) -> dict[str, Any]:
    """``objective`` over swept params ``x`` and ``y``, the other swept params held at the best result's values.

    ``results`` are a sweep's results (``params`` and ``stats``) in combo order; the best is the
    first with the highest ``objective`` (lowest when not ``maximize``). ``z`` has a row per value
    of ``y`` and a column per value of ``x``, both ascending; ``None`` where no result has a
    finite value (not run yet, refused by the strategy, left out by the constraint or sample).
    """
    scored = [
        (result["params"], float(result["stats"][objective]))
        for result in results
        if score(result.get("stats"), objective, maximize) is not None
    ]
    xs, ys = sorted(space[x]), sorted(space[y])
    z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    if not scored:
        return {"x": xs, "y": ys, "z": z, "best": None, "fixed": {}}
    best, value = (max if maximize else min)(scored, key=lambda item: item[1])
    fixed = {name: best[name] for name in space if name not in (x, y)}
    column, row = {v: k for k, v in enumerate(xs)}, {v: k for k, v in enumerate(ys)}
    for params, found in scored:
        if all(params[name] == held for name, held in fixed.items()):
            z[row[params[y]]][column[params[x]]] = found
    return {"x": xs, "y": ys, "z": z, "best": {"x": best[x], "y": best[y], "value": value}, "fixed": fixed}


def plan_sweep(
    strategies: StrategyRepository,
    strategy_id: str,
    *,
    grid: Mapping[str, Any],
    random: Mapping[str, Any] | None = None,
    constraint: str | None = None,
    objective: str = DEFAULT_OBJECTIVE,
    maximize: bool = True,
    symbol: str | None = None,
    start: int | None = None,
    end: int | None = None,
    cash: float = DEFAULT_CASH,
    chunk_size: int | None = None,
) -> tuple[dict[str, Any], list[list[dict[str, Number]]]]:
    """The sweep document's fields and its chunks' parameter sets; :class:`InvalidRequest` listing every problem.

    ``grid`` maps parameter names to a value, a list of values, or a range
    ``{"start", "stop", "step"}`` (``stop`` included, ``step`` 1 by
    default). ``random`` (``{"n", "seed"}``) runs ``n`` sets drawn from the
    grid points that satisfy the constraint instead of all of them; without
    a seed one is chosen and recorded, so a sweep can always be repeated.
    """
    errors: dict[str, list[str]] = {}
    try:
        target = resolve_target(strategies, strategy_id, symbol=symbol, start=start, end=end, cash=cash)
    except InvalidRequest as exc:
        if "strategy_id" in exc.errors:
            raise
        # Check the rest against the strategy all the same: one answer lists every problem.
        errors.update(exc.errors)
        target = resolve_target(strategies, strategy_id)
    spec = target_spec(target)
    space = _space(grid, spec, errors)
    rule = _constraint(constraint, spec, space, errors) if constraint is not None else None
    if objective not in stat_names():
        errors["objective"] = [unknown_stat(objective)]
    sample = _sample(random, errors) if random is not None else None
    if chunk_size is not None and not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        errors["chunk_size"] = [f"must be 1 to {MAX_CHUNK_SIZE}"]
    if errors:
        raise InvalidRequest(errors)
    points = _select(space, rule, sample)
    size = chunk_size or min(max(math.ceil(len(points) / TARGET_CHUNKS), MIN_CHUNK_SIZE), DEFAULT_MAX_CHUNK_SIZE)
    param_sets = space.param_sets(points)
    fields = {
        **target,
        "space": space.to_dict(),
        "random": sample,
        "constraint": constraint,
        "objective": objective,
        "maximize": maximize,
        "chunk_size": size,
    }
    return fields, [param_sets[first : first + size] for first in range(0, len(param_sets), size)]


def run_sweep_chunk(
    db: Database,
    chunk_id: str,
    worker: Mapping[str, Any],
    report: Report | None = None,
    keepalive: Beat | None = None,
    heartbeat_s: float = DEFAULT_HEARTBEAT_S,
) -> str:
    """Execute one chunk; returns ``done``, ``failed``, ``stopped`` or ``skipped``.

    As for a run, any number of executions of a chunk may run at once (the
    task delivered again while one still runs): the first to finish wins, the
    others stop at their next stage change or at their final write.
    ``keepalive`` and ``heartbeat_s`` are :func:`backtests.jobs.run_backtest_job`'s.

    The last chunk to finish flips the sweep to ``done``. Should an execution
    die between storing its chunk and that check, the chunk's redelivery
    (which finds the chunk done) makes the check again.
    """
    repository = SweepRepository(db)
    claimed = repository.claim_chunk(chunk_id, worker)
    if claimed is None:
        sweep_id = repository.sweep_of(chunk_id)
        if sweep_id is not None:
            repository.finish_if_complete(sweep_id)
        log.info(
            "sweep chunk skipped: finished, or its sweep stopped, before this delivery",
            extra={"chunk_id": chunk_id, "sweep_id": sweep_id},
        )
        return SKIPPED
    chunk, sweep = claimed

    def enter(stage: str) -> bool:
        """Announce ``stage``; ``False`` if the chunk was finished by another execution or the sweep stopped."""
        announce(report, stage)
        return repository.chunk_running(chunk)

    def execute() -> str:
        clock = Stopwatch()
        if not enter("loading"):
            return STOPPED
        with clock("load"):
            spec = target_spec(sweep)
            candles = load_candles(db, sweep)
        if not enter("running"):
            return STOPPED
        with clock("run"):
            results = _run(spec, candles, chunk, sweep)
        if not enter("storing"):
            return STOPPED
        if not repository.complete_chunk(chunk, results, clock.seconds, worker):
            return STOPPED
        repository.finish_if_complete(sweep["_id"])
        return DONE

    with (
        target_log_context(sweep, sweep_id=str(sweep["_id"]), chunk_id=chunk_id),
        Heartbeat(heartbeat_s, lambda: repository.heartbeat_chunk(chunk), keepalive),
    ):
        log.info("sweep chunk started: attempt %d, %d parameter sets", chunk["attempts"], len(chunk["params"]))
        return guarded("sweep chunk", execute, lambda reason: repository.fail_chunk(chunk, reason))


def _run(spec: StrategySpec, candles: Candles, chunk: Mapping[str, Any], sweep: Mapping[str, Any]) -> list[dict]:
    """One result per parameter set of the chunk; a set the strategy refuses gets its reason instead of stats.

    Each result counts the entries it skipped by reason, and one without closed trades says why.
    """
    results, runnable = [], []
    for offset, params in enumerate(chunk["params"]):
        combo = chunk["first_combo"] + offset
        try:
            spec.with_params(params)
        except SpecError as exc:
            results.append(
                {
                    "combo": combo,
                    "params": params,
                    "stats": None,
                    "score": None,
                    "error": "; ".join(map(str, exc.errors)),
                }
            )
        else:
            runnable.append((combo, params))
    outcomes = run_many(spec, candles, [params for _, params in runnable], cash=sweep["cash"], symbol=sweep["symbol"])
    for (combo, params), outcome in zip(runnable, outcomes):
        stats = {name: json_number(value) for name, value in outcome.stats.items()}
        results.append(
            {
                "combo": combo,
                "params": params,
                "stats": stats,
                "score": score(stats, sweep["objective"], sweep["maximize"]),
                "skipped": outcome.skipped.to_dict()["by_reason"],
                "no_trades_reason": outcome.no_trades_reason,
            }
        )
    return results


def _space(grid: Any, spec: StrategySpec, errors: dict[str, list[str]]) -> ParamSpace:
    """The grid's parameters and values, checked against the strategy; problems go to ``errors``."""
    if not isinstance(grid, Mapping) or not grid:
        errors["grid"] = ['give at least one parameter, e.g. {"fast": [5, 10, 20]}']
        return ParamSpace((), ())
    names, values = [], []
    for name, raw in grid.items():
        path = f"grid.{name}"
        if name not in spec.params:
            known = ", ".join(spec.params) or "none"
            errors[path] = [
                joined("unknown parameter", did_you_mean(str(name), spec.params), f"the strategy's parameters: {known}")
            ]
            continue
        found = _values(raw, path, errors)
        if found is None:
            continue
        refused = [
            f"{value}: {issue.message}" if issue.path == path.replace("grid.", "params.", 1) else str(issue)
            for value in found
            for issue in _refusals(spec, name, value)
        ]
        if refused:
            errors[path] = refused[:3] + ([f"... and {len(refused) - 3} more"] if len(refused) > 3 else [])
            continue
        names.append(name)
        values.append(found)
    return ParamSpace(tuple(names), tuple(values))


def _refusals(spec: StrategySpec, name: str, value: Number) -> list[SpecIssue]:
    """What the strategy says against ``name`` taking ``value`` (the other parameters as they are)."""
    try:
        spec.with_params({name: value})
    except SpecError as exc:
        return exc.errors
    return []


def _values(raw: Any, path: str, errors: dict[str, list[str]]) -> tuple[Number, ...] | None:
    """A grid entry's distinct values in order: a number, a list of numbers, or a range object."""
    if _is_number(raw):
        return (raw,)
    if isinstance(raw, list):
        if not raw or not all(_is_number(value) for value in raw):
            errors[path] = ["a list of values must hold one or more numbers"]
            return None
        found = tuple(dict.fromkeys(raw))
    elif isinstance(raw, Mapping):
        found = _range(raw, path, errors)
        if found is None:
            return None
    else:
        errors[path] = ['expected a number, a list of numbers or {"start": ..., "stop": ..., "step": ...}']
        return None
    if len(found) > MAX_VALUES:
        errors[path] = [f"{len(found):,} values, at most {MAX_VALUES:,}"]
        return None
    return found


def _range(raw: Mapping[str, Any], path: str, errors: dict[str, list[str]]) -> tuple[Number, ...] | None:
    """``start``, ``start + step``, ... up to and including ``stop``; integers stay integers."""
    unknown = sorted(set(raw) - {"start", "stop", "step"})
    start, stop, step = raw.get("start"), raw.get("stop"), raw.get("step", 1)
    if unknown or not all(_is_number(value) for value in (start, stop, step)):
        errors[path] = ['a range is {"start": number, "stop": number, "step": number > 0} (step 1 by default)']
        return None
    if step <= 0 or stop < start:
        errors[path] = ["a range needs step > 0 and stop >= start"]
        return None
    # Floats near 1e308 overflow to infinity, and huge integers cannot become floats at all.
    try:
        steps = (stop - start) / step
    except OverflowError:
        steps = math.inf
    if not steps < MAX_VALUES:
        counted = f"{math.floor(steps) + 1:,} values" if steps < 1e15 else "too many values to count"
        errors[path] = [f"{counted}, at most {MAX_VALUES:,}: widen the step or narrow start..stop"]
        return None
    count = math.floor(steps + 1e-9) + 1
    if count > MAX_VALUES:
        errors[path] = [f"{count:,} values, at most {MAX_VALUES:,}"]
        return None
    if all(isinstance(value, int) for value in (start, stop, step)):
        return tuple(range(start, stop + 1, step))
    return tuple(dict.fromkeys(round(start + index * step, 12) for index in range(count)))


def _is_number(value: Any) -> bool:
    """A finite JSON number; an integer too big for a float (JSON allows any) is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= MAX_NUMBER if isinstance(value, int) else math.isfinite(value)


def _constraint(text: Any, spec: StrategySpec, space: ParamSpace, errors: dict[str, list[str]]) -> Constraint | None:
    """The constraint compiled, if it only reads known parameters and stays cheap to apply."""
    if not isinstance(text, str):
        errors["constraint"] = ['expected a rule over parameters, e.g. "$fast < $slow"']
        return None
    too_long = rule_too_long(text)
    if too_long:
        errors["constraint"] = [too_long]
        return None
    try:
        rule = compile_rule(text, "constraint")
    except RuleError as exc:
        errors["constraint"] = [joined(f"{exc.reason} at column {exc.column}", exc.hint)]
        return None
    problems = []
    if rule.identifiers:
        names = ", ".join(sorted(rule.identifiers))
        problems.append(f"reads {names}: a constraint compares parameters only, like $fast < $slow")
    for name in sorted(rule.params - set(spec.params)):
        problems.append(joined(f"unknown parameter ${name}", did_you_mean(name, spec.params)))
    cases = math.prod(len(values) for name, values in zip(space.names, space.values) if name in rule.params)
    if cases > MAX_COMBOS:
        problems.append(f"reads parameters with {cases:,} combinations of values, at most {MAX_COMBOS:,}")
    if problems:
        errors["constraint"] = problems
        return None
    fixed = {name: spec.params[name] for name in rule.params if name not in space.names}
    return Constraint(rule, fixed)


def _sample(random: Any, errors: dict[str, list[str]]) -> dict[str, int] | None:
    """``{"n", "seed"}`` checked, with a seed chosen when none is given."""
    if not isinstance(random, Mapping) or set(random) - {"n", "seed"}:
        errors["random"] = ['expected {"n": count, "seed": integer} (seed optional)']
        return None
    n, seed = random.get("n"), random.get("seed")
    if not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_COMBOS):
        errors["random.n"] = [f"must be a whole number from 1 to {MAX_COMBOS:,}"]
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63):
        errors["random.seed"] = ["must be a whole number from 0 to 2^63-1"]
    if "random.n" in errors or "random.seed" in errors:
        return None
    return {"n": n, "seed": secrets.randbelow(2**32) if seed is None else seed}


def _select(space: ParamSpace, constraint: Constraint | None, sample: Mapping[str, int] | None) -> np.ndarray:
    """The grid points to run, in grid order: those satisfying the constraint, sampled if asked."""
    if space.size > MAX_GRID_POINTS:
        raise InvalidRequest(
            {
                "grid": [
                    f"{space.size:,} grid points, at most {MAX_GRID_POINTS:,}: "
                    "use fewer values (random sampling draws from the grid too)"
                ]
            }
        )
    points = np.arange(space.size, dtype=np.int64)
    if constraint is not None:
        points = points[constraint.mask(space, points)]
        if not len(points):
            raise InvalidRequest({"constraint": ["no point of the grid satisfies it"]})
    if sample is not None and sample["n"] < len(points):
        rng = np.random.default_rng(sample["seed"])
        points = np.sort(rng.choice(points, sample["n"], replace=False))
    if len(points) > MAX_COMBOS:
        raise InvalidRequest(
            {
                "grid": [
                    f"{len(points):,} parameter sets, at most {MAX_COMBOS:,}: narrow the grid, "
                    "add a constraint, or sample with random"
                ]
            }
        )
    return points
