"""Scale-out benchmark: one sweep on one backtest node, then on two, on the same broker.

    .venv/bin/python bench/scaleout.py [--bars 1000000] [--nodes 2]

Self-contained: a throwaway Redis and MongoDB on free ports under ``var/bench/``, generated
1m candles and the SMA-cross example stored as bench/backtest_job.py does. Nodes are
``celery -A tasks worker -Q backtests -c 1`` subprocesses, each with its own
``--hostname`` (logs in ``var/bench/scaleout-<node>.log``): what another machine adds.
The sweep (fast 5..100 step 5, slow 20..400 step 20, fast < slow: 355 parameter sets in
the default ~45 chunks) is timed from submitting to ``done`` as the submitting process
sees it, first with one node, then with ``--nodes`` nodes; each phase starts with a small
warm-up sweep so that no node pays its first chunk's start-up in the timed one.

Nodes are separate processes, not separate network namespaces: the machine allows
namespaces (as root), but the throwaway Redis and MongoDB listen on 127.0.0.1 only and
nothing here forwards a port into a namespace without a userspace proxy, which would sit
in the data path (a chunk loads a million bars) on the same two cores being measured.

No target: on N cores shared with this process and the stores, N nodes of ``-c 1``
cannot beat N times one node. Prints one line per figure, then a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

from bench.backtest_job import prepare  # noqa: E402
from bench.candles import bench_services, report, worker_env  # noqa: E402

GRID = {"fast": {"start": 5, "stop": 100, "step": 5}, "slow": {"start": 20, "stop": 400, "step": 20}}
CONSTRAINT = "$fast < $slow"
WARM_UP_GRID = {"fast": [10, 20], "slow": [50]}
POLL_S = 0.02


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="1m candles to sweep over (default 1,000,000)")
    parser.add_argument("--nodes", type=int, default=2, help="nodes of the second phase (default 2)")
    args = parser.parse_args(argv)

    with bench_services(cache_gb=1):
        report("machine", f"{os.cpu_count()} cores, shared by the nodes, this process, Redis and MongoDB")
        strategy_id = prepare(args.bars)
        nodes: list[subprocess.Popen] = []
        try:
            phases = {}
            for count in (1, args.nodes):
                while len(nodes) < count:
                    nodes.append(start_node(f"node{len(nodes) + 1}"))
                sweep(strategy_id, WARM_UP_GRID, chunk_size=1)
                phases[count] = timed_sweep(strategy_id, count)
        finally:
            for node in nodes:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
    one, many = phases[1], phases[args.nodes]
    speedup = one["seconds"] / many["seconds"]
    report("speed-up", f"{speedup:.2f}x with {args.nodes} nodes ({speedup / args.nodes:.0%} of linear)")
    print(
        json.dumps(
            {
                "bars": args.bars,
                "combos": one["combos"],
                "chunks": one["chunks"],
                "one_node_s": one["seconds"],
                f"nodes_{args.nodes}_s": many["seconds"],
                "speedup": round(speedup, 2),
                "chunks_by_node": many["chunks_by_node"],
            }
        )
    )
    return 0


# The functions below import the platform's modules themselves: the Celery app reads the
# settings when it is imported, which must happen once they point at the throwaway servers.


def start_node(name: str) -> subprocess.Popen:
    """A backtest node (``-Q backtests -c 1``, as the Procfile's) named ``name@bench``, once it answers a ping."""
    from tasks.celery_app import app

    hostname = f"{name}@bench"
    log_path = ROOT / f"var/bench/scaleout-{name}.log"
    env = worker_env()
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        node = subprocess.Popen(
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
                "1",
                "-P",
                "prefork",
                "-O",
                "fair",
                "--prefetch-multiplier",
                "1",
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
        if node.poll() is not None or time.perf_counter() - started > 60:
            raise SystemExit(f"node {hostname} did not start; see {log_path}")
    report("node", f"{hostname} ready in {time.perf_counter() - started:.1f} s")
    return node


def sweep(strategy_id: str, grid: dict, **request: object) -> tuple[dict, float]:
    """Submit a sweep and wait for it; returns its document and the seconds from submitting to ``done``."""
    from tasks.backtests import submit_sweep
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.strategies import StrategyRepository

    db = mongo_db()
    started = time.perf_counter()
    doc = submit_sweep(db, StrategyRepository(db, redis_client()), strategy_id, grid=grid, **request)
    while (state := db.sweeps.find_one({"_id": doc["_id"]}, {"state": 1, "error": 1}))["state"] in (
        "queued",
        "running",
    ):
        time.sleep(POLL_S)
    if state["state"] != "done":
        raise SystemExit(f"the sweep ended {state['state']}: {state.get('error')}")
    return doc, time.perf_counter() - started


def timed_sweep(strategy_id: str, nodes: int) -> dict:
    from tickflow.storage.connections import mongo_db

    doc, seconds = sweep(strategy_id, GRID, constraint=CONSTRAINT)
    chunks = list(mongo_db().sweep_chunks.find({"sweep_id": doc["_id"]}, {"worker.hostname": 1}))
    by_node = Counter(chunk["worker"]["hostname"] for chunk in chunks)
    report(
        f"{nodes} node{'s' * (nodes > 1)}",
        f"{seconds:.2f} s for {doc['combos']} sets in {len(chunks)} chunks "
        f"({doc['combos'] / seconds:.1f} sets/s); chunks per node: "
        + ", ".join(f"{host} {n}" for host, n in sorted(by_node.items())),
    )
    return {
        "seconds": round(seconds, 2),
        "combos": doc["combos"],
        "chunks": len(chunks),
        "chunks_by_node": dict(sorted(by_node.items())),
    }


if __name__ == "__main__":
    sys.exit(main())
