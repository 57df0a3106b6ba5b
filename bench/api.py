"""API benchmark: reads under load, with and without open live streams, and the stream's event delay.

    .venv/bin/python bench/api.py [--streams 500] [--rate 500] [--seconds 10]

Starts a throwaway Redis and MongoDB (free ports, under ``var/bench/``), the API as the
Procfile runs it (gunicorn, 2 workers of 8 threads) and the stream process (``tickflow
stream``), each on a free port with its log under ``var/bench/``; seeds 20 strategies, 10
of them paper trading (so ``/live/positions`` has 10 accounts). Then measures:

* ``<read>_p50_ms`` / ``_p99_ms``: each read (``READS``, ``/health``, and the chart of a done
  backtest over a year of 1m bars with ``max_bars=2000``) at ``--rate`` requests per second
  for ``--seconds``, no stream open. The load comes from ``hey`` (10 workers, each paced
  at a tenth of the rate, keep-alive) when it is on PATH (``apt-get install hey``), else
  from a paced Python loop, whose own pauses then count in the figures. Each read is first
  sent for ``WARM_UP_S`` unmeasured (first connections, lazy imports), and MongoDB is made to
  write its checkpoint of the seeded candles before the first;
* ``event_delay_p50_ms`` / ``_p99_ms``: with ``--streams`` streams open (all read by one
  client process, apart from this one), a candle closed every 100 ms by the live engine's
  ingest script; from just before the script runs to each client's receipt of the
  candle's event. The client process reads its sockets one after the other, so its own
  pace is in the figure;
* ``streams_<read>_p50_ms`` / ``_p99_ms``: the reads again while those streams stay open.

Targets (issue 11): reads p99 <= 20 ms at 500 req/s, chart p99 <= 150 ms, health p50 <= 10 ms,
event delay p99 <= 100 ms with 500 streams. The machine's cores are shared by every process here, the load generator and
the stream clients included. Prints one line per figure, then a final JSON line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import re
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.candles import bench_services, report  # noqa: E402  (after the path insert)

READS = ("/api/v1/strategies", "/api/v1/live/positions")
"""What a dashboard reads; others may be added to the list."""
STREAM = "/api/v1/live/stream"
HEY_WORKERS = 10
WARM_UP_S = 2.0
CANDLE_EVERY_S = 0.1
CANDLES = 50
MINUTE = 60_000
T0 = 1_704_067_200_000
SYMBOL = "BENCHUSDT"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500, help="streams held open (default 500)")
    parser.add_argument("--rate", type=int, default=500, help="read requests per second (default 500)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each read run (default 10)")
    args = parser.parse_args(argv)
    load = hey_load if shutil.which("hey") else python_load
    report("load", "hey" if load is hey_load else "Python loop (install hey for a load generator of its own)")
    figures: dict[str, float] = {}
    with bench_services(cache_gb=0.25), platform() as (api, stream, token):
        seed()
        paths = [*READS, "/api/v1/health", f"/api/v1/backtests/{year_long_backtest()}/chart?max_bars=2000"]
        settle()
        figures.update(reads(load, api, token, paths, args.rate, args.seconds, prefix=""))
        with open_streams(stream, token, args.streams) as clients:
            figures.update(event_delay(clients, args.streams))
            figures.update(reads(load, api, token, list(READS), args.rate, args.seconds, prefix="streams_"))
    print(json.dumps(figures))
    return 0


# -- the platform -------------------------------------------------------------------------------


def procfile(name: str) -> str:
    """The Procfile's command for process ``name``."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))[name]


@contextmanager
def platform() -> Iterator[tuple[str, str, str]]:
    """The API and the stream process on the bench's services: (API URL, stream URL, a token)."""
    from cli.localservices import ProcfileProcess, free_port
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.schema import ensure_schema
    from tickflow.storage.tokens import TokenRepository

    ensure_schema(mongo_db())
    token, _ = TokenRepository(mongo_db(), redis_client()).create("bench")
    api_port, stream_port = free_port(), free_port()
    logs = ROOT / "var/bench"
    env = {"API_PORT": str(api_port), "STREAM_PORT": str(stream_port)}  # and LOG_LEVEL's default: access lines too
    started = []
    try:
        for name, url in (
            ("api", f"http://127.0.0.1:{api_port}/api/v1/health"),
            ("stream", f"http://127.0.0.1:{stream_port}{STREAM}/health"),
        ):
            process = ProcfileProcess(procfile(name), env, logs / f"{name}.log", ROOT)
            started.append(process)
            process.wait_answering(url)
        report("processes", f"api :{api_port} (gunicorn), stream :{stream_port}; logs in var/bench/")
        yield f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{stream_port}", token
    finally:
        for process in started:
            process.stop()


def seed() -> None:
    """20 strategies, the first 10 trading on paper (an account each for ``/live/positions``)."""
    from strategies.examples import load_example
    from tickflow.settings import live_settings
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.strategies import StrategyRepository
    from workers.engine import LiveEngine

    strategies = StrategyRepository(mongo_db(), redis_client())
    engine = LiveEngine(redis_client(), mongo_db(), live_settings())
    for n in range(20):
        spec = {**load_example("sma_cross"), "name": f"bench {n}", "symbols": [SYMBOL], "timeframe": "1m"}
        strategy_id = strategies.create(spec).id
        if n < 10:
            engine.start(strategy_id, "paper", 10_000)


def year_long_backtest() -> str:
    """A done backtest of the SMA cross on a year of 1m bars (run in this process); its id."""
    from backtests.jobs import run_backtest_job
    from backtests.runs import resolve_target
    from strategies.examples import load_example
    from tickflow.storage.backtest_results import BacktestRepository
    from tickflow.storage.candles import CandleStore
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.strategies import StrategyRepository
    from tickflow.synthetic import generate_candles

    db = mongo_db()
    CandleStore(db).upsert("YEARUSDT", "1m", generate_candles(525_600, "1m", seed=7))
    strategies = StrategyRepository(db, redis_client())
    spec = {**load_example("sma_cross"), "name": "bench year", "symbols": ["YEARUSDT"], "timeframe": "1m"}
    target = resolve_target(strategies, strategies.create(spec).id)
    run_id = str(BacktestRepository(db).create(target)["_id"])
    assert run_backtest_job(db, run_id, {"hostname": "bench", "pid": 0}) == "done"
    report("chart run", f"backtest {run_id}: a year of 1m bars, done")
    return run_id


def settle() -> None:
    """Write MongoDB's checkpoint of the seeded year of candles now, rather than during a measurement."""
    from tickflow.storage.connections import mongo_db

    mongo_db().client.admin.command("fsync")


# -- reads --------------------------------------------------------------------------------------

Load = Callable[[str, str, int, float], list[float]]
"""(url, token, requests per second, seconds) -> each request's latency in ms."""


def reads(
    load: Load, api: str, token: str, paths: list[str], rate: int, seconds: float, prefix: str
) -> dict[str, float]:
    figures = {}
    for path in paths:
        load(f"{api}{path}", token, rate, WARM_UP_S)  # every worker thread's first requests, not measured
        latencies = load(f"{api}{path}", token, rate, seconds)
        p50, p99 = np.percentile(latencies, [50, 99])
        name = prefix + re.sub(r"/[0-9a-f]{24}/", "/", path.removeprefix("/api/v1/").split("?")[0]).replace("/", "_")
        achieved = len(latencies) / seconds
        report(name, f"{achieved:.0f} req/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        figures[f"{name}_p50_ms"], figures[f"{name}_p99_ms"] = round(float(p50), 2), round(float(p99), 2)
    return figures


def hey_load(url: str, token: str, rate: int, seconds: float) -> list[float]:
    """``hey`` paced at ``rate`` over ``HEY_WORKERS`` keep-alive workers; every 2xx request's latency."""
    command = ["hey", "-z", f"{seconds}s", "-c", str(HEY_WORKERS), "-q", str(rate / HEY_WORKERS), "-o", "csv"]
    run = subprocess.run(
        [*command, "-H", f"Authorization: Bearer {token}", url], capture_output=True, text=True, check=True
    )
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    failed = [row for row in rows if not row["status-code"].startswith("2")]
    assert not failed, f"{len(failed)} of {len(rows)} requests failed, e.g. {failed[0]}"
    return [float(row["response-time"]) * 1000 for row in rows]


def python_load(url: str, token: str, rate: int, seconds: float) -> list[float]:
    """The same pacing as ``hey_load`` from threads of keep-alive ``requests`` sessions."""
    import requests

    latencies: list[float] = []
    interval = HEY_WORKERS / rate
    start = time.perf_counter()

    def worker() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        due = start
        while due - start < seconds:
            time.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            session.get(url, timeout=10).raise_for_status()
            latencies.append((time.perf_counter() - sent) * 1000)
            due = max(due + interval, time.perf_counter())

    threads = [threading.Thread(target=worker) for _ in range(HEY_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


# -- streams ------------------------------------------------------------------------------------


@contextmanager
def open_streams(stream: str, token: str, count: int) -> Iterator[multiprocessing.connection.Connection]:
    """``count`` streams held open by a client process; yields the pipe to it once all are open."""
    context = multiprocessing.get_context("spawn")  # nothing of this process's clients crosses over
    ours, theirs = context.Pipe()
    clients = context.Process(target=stream_clients, args=(stream, token, count, theirs), daemon=True)
    clients.start()
    try:
        assert ours.poll(180), "the client process did not answer within 180 s"
        opened = ours.recv()
        assert opened == count, f"{opened} of {count} streams opened within 120 s"
        report("streams", f"{opened} open")
        yield ours
    finally:
        clients.kill()
        clients.join()


def stream_clients(stream: str, token: str, count: int, pipe: multiprocessing.connection.Connection) -> None:
    """Open ``count`` streams and keep reading them all until killed, noting when each event (``id:``) arrives.

    Sends the number of streams once all are open. Then, given a list of event ids, sends
    {event id: [monotonic receipt times]} once every stream has them all (or after 60 s).
    """
    host, port = stream.removeprefix("http://").split(":")
    request = f"GET {STREAM} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    selector = selectors.DefaultSelector()
    pending: dict[socket.socket, bytes] = {}
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(request)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        pending[sock] = b""
    opening = set(pending)
    received: dict[str, list[float]] = defaultdict(list)

    def pump(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                data = sock.recv(65536)
                now = time.monotonic()
                assert data, "the stream process closed a stream"
                lines, _, pending[sock] = (pending[sock] + data).rpartition(b"\n")
                for event_id in re.findall(rb"^id: (\S+)$", lines, re.M):
                    received[event_id.decode()].append(now)
                if sock in opening and b"retry:" in lines:
                    opening.discard(sock)

    pump(lambda: not opening, 120)
    pipe.send(count - len(opening))
    pump(pipe.poll, float("inf"))
    expected = pipe.recv()
    pump(lambda: all(len(received[id_]) == count for id_ in expected), 60)
    pipe.send({id_: received[id_] for id_ in expected})
    pump(lambda: False, float("inf"))


def event_delay(clients: multiprocessing.connection.Connection, streams: int) -> dict[str, float]:
    """Close ``CANDLES`` candles with the ingest script, one every ``CANDLE_EVERY_S``; the delays to every stream."""
    from tickflow.settings import live_settings
    from tickflow.storage import keys
    from tickflow.storage.connections import redis_client
    from workers.ingest import Ingestor
    from workers.ticks import decode_batch

    client = redis_client()
    settings = live_settings()
    ingestor = Ingestor(client, settings)
    sent: dict[str, float] = {}
    for n in range(CANDLES + 1):  # each tick opens minute n, which closes minute n - 1
        batch = decode_batch({"s": [SYMBOL], "t": [T0 + n * MINUTE], "p": [100.0 + n], "q": [1.0]})
        started = time.monotonic()
        if ingestor.apply(batch).closes:
            sent[client.xrevrange(keys.live_events(), count=1)[0][0]] = started
        time.sleep(CANDLE_EVERY_S)
    clients.send(list(sent))
    received = clients.recv()
    delays = [(at - sent[id_]) * 1000 for id_, times in received.items() for at in times]
    assert len(delays) == CANDLES * streams, f"{len(delays)} receipts of {CANDLES * streams}"
    p50, p99 = np.percentile(delays, [50, 99])
    report("event delay", f"{CANDLES} candles x {streams} streams: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return {"event_delay_p50_ms": round(float(p50), 2), "event_delay_p99_ms": round(float(p99), 2)}


if __name__ == "__main__":
    sys.exit(main())
