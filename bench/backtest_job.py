"""Backtest job benchmark: one whole Celery job on a million bars, from submitting to ``done``.

    .venv/bin/python bench/backtest_job.py [--bars 1000000] [--runs 5]

Self-contained: starts a throwaway Redis and MongoDB on free ports under
``var/bench/`` and a ``celery -A tasks worker -Q backtests`` subprocess, stores
generated 1m candles and the SMA-cross example, then times jobs the way the
API submits them: a queued document and a task carrying its id; the worker
loads the candles from MongoDB, backtests, stores the full equity curve and
trade log as packed parts and flips the run to ``done``. The clock stops when
the submitting process sees ``done``. The first job of the worker is reported
apart; ``job_seconds_1m`` is the median of the following ones, and must stay
under 2 s (the bench exits 1 otherwise). The worker's log is left in
``var/bench/worker.log``.

Prints one line per figure, then a final JSON line for machines.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

from bench.candles import bench_services, report, worker_env  # noqa: E402

BUDGET_S = 2.0
SYMBOL = "BENCHUSDT"
POLL_S = 0.002


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="1m candles to backtest (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed jobs after the first (default 5)")
    args = parser.parse_args(argv)

    with bench_services(cache_gb=1):
        strategy_id = prepare(args.bars)
        worker = start_worker()
        try:
            figures = time_jobs(strategy_id, args.runs)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    print(json.dumps({"bars": args.bars, **figures}))
    if figures["job_seconds_1m"] >= BUDGET_S:
        print(f"job_seconds_1m {figures['job_seconds_1m']} s is over the {BUDGET_S} s budget", file=sys.stderr)
        return 1
    return 0


# The functions below import the platform's modules themselves: the Celery app reads the
# settings when it is imported, which must happen once they point at the throwaway servers.


def prepare(bars: int) -> str:
    """Store the candles and the strategy; returns the strategy's id."""
    from strategies.examples import load_example
    from tickflow.storage.candles import CandleStore
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.schema import ensure_schema
    from tickflow.storage.strategies import StrategyRepository
    from tickflow.synthetic import generate_candles

    db = mongo_db()
    ensure_schema(db)
    candles = generate_candles(bars, "1m", seed=1)
    started = time.perf_counter()
    CandleStore(db).upsert(SYMBOL, "1m", candles)
    report("candles", f"{bars:,} 1m bars of {SYMBOL} stored in {time.perf_counter() - started:.2f} s")
    spec = {**load_example("sma_cross"), "symbols": [SYMBOL], "timeframe": "1m"}
    return StrategyRepository(db, redis_client()).create(spec).id


def start_worker() -> subprocess.Popen:
    """A worker subprocess on the ``backtests`` queue, once it answers a ping."""
    from tasks.celery_app import app

    hostname = f"bench-{os.getpid()}@bench"
    log_path = ROOT / "var/bench/worker.log"
    env = worker_env()
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tasks",
                "worker",
                "-Q",
                "backtests",
                "-c",
                "2",
                "--hostname",
                hostname,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if worker.poll() is not None or time.perf_counter() - started > 60:
            raise SystemExit(f"the worker did not start; see {log_path}")
    report("worker", f"ready in {time.perf_counter() - started:.1f} s (2 pool processes)")
    return worker


def time_jobs(strategy_id: str, runs: int) -> dict[str, float | int]:
    """Submit jobs one after another; the first apart, then the median of ``runs``."""
    from tasks.backtests import submit_backtest
    from tickflow.storage.backtest_results import BacktestRepository
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.strategies import StrategyRepository

    db = mongo_db()
    strategies, repository = StrategyRepository(db, redis_client()), BacktestRepository(db)
    jobs = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        run_id = submit_backtest(db, strategies, strategy_id)["_id"]
        while (run := repository.get(run_id))["state"] in ("queued", "running"):
            time.sleep(POLL_S)
        elapsed = time.perf_counter() - started
        if run["state"] != "done":
            raise SystemExit(f"the job ended {run['state']}: {run.get('error')}")
        worker_s = (run["finished_at"] - run["started_at"]).total_seconds()
        jobs.append(
            {
                "job_s": elapsed,
                "worker_s": worker_s,
                **run["timings"],
                "store_s": worker_s - run["timings"]["load_s"] - run["timings"]["run_s"],
            }
        )
    first, timed = jobs[0], jobs[1:]
    median = {key: statistics.median(job[key] for job in timed) for key in timed[0]}
    report("first job", f"{first['job_s']:.3f} s")
    each = ", ".join(f"{job['job_s']:.3f}" for job in timed)
    report("job_seconds_1m", f"{median['job_s']:.3f} s (median of {runs}: {each})")
    report(
        "  in worker",
        f"{median['worker_s']:.3f} s: load {median['load_s']:.3f} s, run {median['run_s']:.3f} s, "
        f"store and bookkeeping {median['store_s']:.3f} s",
    )
    report("  trades", f"{run['n_trades']:,} closed, curve of {run['bars']:,} points stored in parts")
    return {
        "job_seconds_1m": round(median["job_s"], 3),
        "first_job_s": round(first["job_s"], 3),
        "worker_s": round(median["worker_s"], 3),
        "load_s": round(median["load_s"], 3),
        "run_s": round(median["run_s"], 3),
        "store_s": round(median["store_s"], 3),
        "trades": run["n_trades"],
    }


if __name__ == "__main__":
    sys.exit(main())
