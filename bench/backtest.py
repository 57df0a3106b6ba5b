"""Backtest engine benchmark: TickFlow against backtesting.py and vectorbt, in one run.

    .venv/bin/python bench/backtest.py [--bars 1000000] [--sweep-bars 2000]

Engine: an SMA(10)/SMA(20) cross on generated 1m bars. TickFlow's time is the whole
``run_backtest`` (indicators, rules, simulation, equity curve, stats), best of 5 once
numba has compiled; the cold first call (compiling into an empty numba cache, in a
subprocess) is reported too. backtesting.py runs the same strategy once (it takes
seconds); its closed trades must equal TickFlow's or the bench fails. vectorbt gets the
same entries and exits (shifted one bar, filled at the open, whole units) and is timed
on ``Portfolio.from_signals`` alone, warm.

Sweep: 90 combinations (fast 5..50 step 5, slow 20..200 step 20, fast < slow) on
daily bars: ``run_many`` (best of 5) against ``Backtest.optimize`` (once; it uses
every CPU). The final equity of every combination must agree.

Celery job: the same backtest as a real job (load 1M candles from MongoDB, run, store),
measured by bench/backtest_job.py in its own process with its own services.

Targets (issue 3, §7), each printed with its ratio and verdict: the engine at least
100x backtesting.py's speed and faster than vectorbt, the sweep at least 50x
backtesting.py's combinations per second, the whole job under 2 s. Prints one line per figure, then a final
JSON line for machines (the ratios, and ``*_met`` for each target); exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not
os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars, in its worker processes too

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from backtest_job import BUDGET_S as JOB_BUDGET_S  # noqa: E402  (bench/ is this script's sys.path[0])
from backtesting import Backtest  # noqa: E402

from strategies.backtest import BacktestResult, SeriesCache, run_backtest, run_many  # noqa: E402
from strategies.candles import Candles  # noqa: E402
from strategies.examples import load_example  # noqa: E402
from strategies.spec import StrategySpec, validate_spec  # noqa: E402
from tests.strategies.backtest.backtesting_py import SmaCross, assert_same_trades, frame, run_reference  # noqa: E402
from tickflow.synthetic import generate_candles  # noqa: E402

CASH = 10_000
SWEEP = {"fast": range(5, 55, 5), "slow": range(20, 220, 20)}
# The targets: the engine at least 100x as fast as backtesting.py's Backtest.run and faster than vectorbt's
# from_signals; a sweep at least 50x as many combinations per second as Backtest.optimize.
ENGINE_VS_BACKTESTING_PY = 100
ENGINE_VS_VECTORBT = 1
SWEEP_VS_BACKTESTING_PY = 50
T = TypeVar("T")

COLD_RUN = """
import time
from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles
candles = generate_candles({bars}, "1m")
spec = validate_spec({{**load_example("sma_cross"), "timeframe": "1m"}})
start = time.perf_counter()
run_backtest(spec, candles)
print(time.perf_counter() - start)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="1m bars for the engine run (default 1,000,000)")
    parser.add_argument("--sweep-bars", type=int, default=2_000, help="1d bars for the sweep (default 2,000)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # backtesting.py warns about open trades and large sweeps

    figures = {**engine(args.bars), **sweep(args.sweep_bars), **celery_job(args.bars)}
    print(json.dumps(figures))
    missed = [name for name, value in figures.items() if name.endswith("_met") and not value]
    if missed:
        sys.exit(f"targets missed: {', '.join(missed)}")


def engine(bars: int) -> dict[str, float | bool]:
    candles = generate_candles(bars, "1m")
    spec = validate_spec({**load_example("sma_cross"), "timeframe": "1m"})
    report("bars", f"{len(candles):,} (1m), SMA(10)/SMA(20) cross")

    cold_s = float(subprocess.run(
        [sys.executable, "-c", COLD_RUN.format(bars=bars)],
        cwd=ROOT, check=True, capture_output=True, text=True,
        env={**os.environ, "NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="numba-cold-")},
    ).stdout)  # fmt: skip
    report("tickflow cold", f"{cold_s:.3f} s (first call, compiling into an empty numba cache)")
    first_s, _ = timed(lambda: run_backtest(spec, candles, CASH))
    report("tickflow first call", f"{first_s:.3f} s (numba cache on disk)")
    engine_s, ours = best_of(5, lambda: run_backtest(spec, candles, CASH))
    report("tickflow warm", f"{engine_s * 1000:.1f} ms (best of 5; indicators, rules, simulation, equity, stats)")

    reference_s, reference = timed(lambda: run_reference(candles, SmaCross, commission=0.0))
    assert_same_trades(ours, reference)
    report("backtesting.py", f"{reference_s:.2f} s; trades identical to TickFlow's: {len(ours.trades):,} checked")

    vectorbt_s, same = vectorbt_run(spec, candles, ours)
    report("vectorbt", f"{vectorbt_s:.3f} s (from_signals, best of 3 warm); same trades: {same}")
    versus_backtesting_py, versus_vectorbt = reference_s / engine_s, vectorbt_s / engine_s
    return {
        "engine_bars_per_s": round(bars / engine_s),
        "engine_cold_s": round(cold_s, 3),
        "backtesting_py_bars_per_s": round(bars / reference_s),
        "vectorbt_bars_per_s": round(bars / vectorbt_s),
        "engine_vs_backtesting_py": round(versus_backtesting_py, 1),
        "engine_vs_vectorbt": round(versus_vectorbt, 2),
        "engine_vs_backtesting_py_met": target("vs backtesting.py", versus_backtesting_py, ENGINE_VS_BACKTESTING_PY),
        "engine_vs_vectorbt_met": target("vs vectorbt", versus_vectorbt, ENGINE_VS_VECTORBT, strictly=True),
    }


def vectorbt_run(spec: StrategySpec, candles: Candles, ours: BacktestResult) -> tuple[float, bool]:
    import vectorbt as vbt

    cache = SeriesCache(candles)
    indicators, keys = cache.indicators(spec)
    signals = cache.signals(spec, {**cache.ohlcv, **indicators}, keys)
    data = frame(candles)
    entries, exits = (np.r_[False, signals[rule][:-1]] for rule in ("enter_long", "exit_long"))

    def portfolio():
        return vbt.Portfolio.from_signals(
            data.Close, entries, exits, price=data.Open, init_cash=CASH, size=np.inf, size_granularity=1, freq="1min"
        )

    portfolio()  # compile
    seconds, result = best_of(3, portfolio)
    closed = result.trades.records.query("status == 1")
    same = bool(
        np.array_equal(closed.entry_idx, ours.trades.entry_bar)
        and np.array_equal(closed.exit_idx, ours.trades.exit_bar)
        and np.array_equal(closed["size"], ours.trades.size)
    )
    return seconds, same


def sweep(bars: int) -> dict[str, float | bool]:
    candles = generate_candles(bars, "1d")
    spec = validate_spec(load_example("sma_cross"))
    grid = [{"fast": f, "slow": s} for f in SWEEP["fast"] for s in SWEEP["slow"] if f < s]
    report("sweep", f"{len(grid)} combinations on {len(candles):,} 1d bars")

    ours_s, results = best_of(5, lambda: run_many(spec, candles, grid, CASH))
    report("tickflow run_many", f"{ours_s:.3f} s (best of 5), {len(grid) / ours_s:,.0f} combinations/s")

    backtest = Backtest(frame(candles), SmaCross, cash=CASH, commission=0.0)
    theirs_s, (_, heatmap) = timed(lambda: backtest.optimize(
        **SWEEP, constraint=lambda p: p.fast < p.slow, maximize="Equity Final [$]", max_tries=None,
        return_heatmap=True,
    ))  # fmt: skip
    report("backtesting.py optimize", f"{theirs_s:.2f} s, {len(heatmap) / theirs_s:,.1f} combinations/s")
    ours_equity = pd.Series({(r.params["fast"], r.params["slow"]): r.stats["final_equity"] for r in results})
    np.testing.assert_allclose(ours_equity.sort_index().to_numpy(), heatmap.sort_index().to_numpy(), rtol=1e-9)
    report("sweep check", "final equity of every combination equals backtesting.py's")
    ours_rate, theirs_rate = len(grid) / ours_s, len(heatmap) / theirs_s
    return {
        "sweep_combos_per_s": round(ours_rate, 1),
        "backtesting_py_sweep_combos_per_s": round(theirs_rate, 1),
        "sweep_vs_backtesting_py": round(ours_rate / theirs_rate, 1),
        "sweep_vs_backtesting_py_met": target("vs optimize", ours_rate / theirs_rate, SWEEP_VS_BACKTESTING_PY),
    }


def celery_job(bars: int) -> dict[str, float | bool]:
    """The whole Celery job (load from MongoDB, run, store) on ``bars`` 1m candles.

    bench/backtest_job.py measures it in its own process, with its own Redis, MongoDB and
    worker; its last line is its JSON figures.
    """
    job = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("backtest_job.py")), "--bars", str(bars)],
        capture_output=True,
        text=True,
    )
    lines = job.stdout.strip().splitlines()
    if not lines:
        sys.exit(f"bench/backtest_job.py printed nothing: {job.stderr.strip()[-500:]}")
    for line in lines[:-1]:
        print(line)
    seconds = json.loads(lines[-1])["job_seconds_1m"]
    met = seconds < JOB_BUDGET_S
    report("celery job", f"{seconds:.3f} s (target < {JOB_BUDGET_S:g} s): {'met' if met else 'MISSED'}")
    return {"job_seconds_1m": seconds, "job_seconds_1m_met": met}


def target(label: str, ratio: float, goal: float, strictly: bool = False) -> bool:
    """Report ``ratio`` against its goal (at least ``goal``, or above it when ``strictly``); whether it is met."""
    met = ratio > goal if strictly else ratio >= goal
    report(label, f"{ratio:,.1f}x (target {'>' if strictly else '>='} {goal}x): {'met' if met else 'MISSED'}")
    return met


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def best_of(times: int, work: Callable[[], T]) -> tuple[float, T]:
    runs = [timed(work) for _ in range(times)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


def report(label: str, text: str) -> None:
    print(f"{label:>26}: {text}", flush=True)


if __name__ == "__main__":
    main()
