"""Live engine benchmark: ingest throughput and latencies through real Celery workers and Redis.

    .venv/bin/python bench/live.py [--seconds 8]

Starts a throwaway Redis and MongoDB (free ports, under ``var/bench/``) and one live
worker as the Procfile runs it (``-Q ingest,strategy,orders -c 2 -P prefork``,
log in ``var/bench/live-worker.log``), then measures, with 100 symbols:

* ``ingest_ticks_per_s``: tick batches (2,000 ticks over the 100 symbols) sent as fast
  as this process can, divided by the time until the last one is visible in Redis;
* ``naive_ticks_per_s``: the same pipeline with one chain (ingest -> indicators ->
  evaluate -> execute, ``bench/naive_chain.py``) per tick, for comparison;
* ``tick_to_candle_p99_ms``: at half the measured ingest rate, from sending a batch to
  seeing it in its symbol's Redis candle (a poller watches a probe symbol);
* ``close_to_order_p99_ms``: one strategy that reverses on every candle colour, from
  sending the batch that closes a candle to the paper order's event in the stream;
* ``close_to_all_1000_p99_ms``: 10 strategies on all 100 symbols (1,000 pairs) with all
  symbols closing together, from the closing batch to every close marked processed
  (evaluated *and* executed);
* ``close_to_venue_ack_p99_ms``: one strategy in ``live`` mode on the local Binance-speaking
  venue (``cli.venue``, its own process, on loopback), long on a green candle and flat on a red
  one, from sending the batch that closes a candle to the venue booking its MARKET order (the
  order's ``time`` on the venue; the answer reaches the worker a round trip later), and
  ``close_to_venue_fill_p99_ms`` to the ``fill`` event the worker commits once it has the answer
  (claim, ledger record, the venue's round trip, booking, ledger write to MongoDB). Issue 14's
  target for the ack is 40 ms: the paper figure plus one HTTP round trip.

For the last two, ticks come as a batching feed sends them (``_candle_batches``): the
batch holding every symbol's first tick of a minute closes the previous minute, and the
rest of the minute follows 20 ms later (the publisher's batch interval) in one batch.
The next minute starts once every symbol's close is processed (plus a pause): market
time is compressed, and real closes of consecutive minutes never overlap.

The machine has 2 cores shared by this process (the feed and the pollers) and the
worker's processes. Prints one line per figure, then a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.candles import bench_services, report, worker_env  # noqa: E402  (after the path insert)
from cli.venue import LocalVenue  # noqa: E402
from tickflow.runtime import freeze_startup_objects  # noqa: E402

SYMBOLS = [f"S{i:03d}USDT" for i in range(100)]
PROBE = "PROBEUSDT"
BATCH = 2_000
MINUTE = 60_000
T0 = 1_704_067_200_000
POLL_S = 0.005
"""How often the close->all poller reads the 100 progress keys: it shares the 2 cores with the worker, so it
may add up to this much to a latency rather than steal CPU from what it measures."""
WORKER_COMMAND = [
    "-m",
    "celery",
    "-A",
    "tasks",
    "worker",
    "--include",
    "tasks.live,bench.naive_chain",
    "-Q",
    "ingest,strategy,orders",
    "-c",
    "2",
    "-P",
    "prefork",
    "-O",
    "fair",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
    "--loglevel",
    os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the throughput run (default 8)")
    parser.add_argument(
        "--only",
        choices=("close_to_order", "close_to_all", "close_to_venue"),
        help="measure only this figure (for profiling); the JSON line then holds only it",
    )
    args = parser.parse_args(argv)
    with bench_services(cache_gb=0.25), local_venue() as venue:
        worker = start_worker()
        try:
            bench = Bench()
            if args.only == "close_to_venue":
                print(json.dumps(bench.close_to_venue(venue)))
                return 0
            if args.only:
                figures = {
                    f"{args.only}_p99_ms" if args.only == "close_to_order" else "close_to_all_1000_p99_ms": getattr(
                        bench, args.only
                    )()
                }
                print(json.dumps(figures))
                return 0
            figures = {
                "ingest_ticks_per_s": bench.ingest_rate(args.seconds),
                "naive_ticks_per_s": bench.naive_rate(),
            }
            figures["tick_to_candle_p99_ms"] = bench.tick_to_candle(figures["ingest_ticks_per_s"] / 2, args.seconds / 2)
            figures["close_to_order_p99_ms"] = bench.close_to_order()
            figures["close_to_all_1000_p99_ms"] = bench.close_to_all()
            figures.update(bench.close_to_venue(venue))
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    print(json.dumps(figures))
    return 0


@contextmanager
def local_venue() -> Iterator[LocalVenue]:
    """The local venue, its own process, with the variables that point this process and the worker at it."""
    key, secret = "benchKey0123456789abcdefABCDEF", "benchSecret9876543210zyxwvZYXWV"
    venue = LocalVenue.start(ROOT / "var/bench/venue.log", key, secret)
    os.environ.update(
        TICKFLOW_EXCHANGE_URL=venue.url, TICKFLOW_EXCHANGE_API_KEY=key, TICKFLOW_EXCHANGE_API_SECRET=secret
    )
    try:
        yield venue
    finally:
        venue.stop()


def _candle_of(client_order_id: str) -> int:
    """The candle an order's client id names: its fill's candle, as ``fill`` events carry it (``ts``)."""
    from strategies.client_ids import decode

    return decode(client_order_id, ["VENUEUSDT"]).candle_open_ms


def start_worker() -> subprocess.Popen:
    from tasks.celery_app import app

    hostname = f"bench-live-{os.getpid()}@bench"
    log_path = ROOT / "var/bench/live-worker.log"
    env = worker_env()
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, *WORKER_COMMAND, "--hostname", hostname],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.perf_counter()
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if worker.poll() is not None or time.perf_counter() - started > 60:
            raise SystemExit(f"the worker did not start; see {log_path}")
    report("worker", f"live worker ready in {time.perf_counter() - started:.1f} s (2 prefork processes)")
    return worker


class Bench:
    def __init__(self) -> None:
        from tasks.celery_app import app
        from tasks.feed import celery_sink
        from tickflow.storage.connections import mongo_db, redis_client
        from tickflow.storage.schema import ensure_schema

        self.app = app
        self.send = celery_sink(app)  # as the feed sends its batches
        self.redis = redis_client()
        self.db = mongo_db()
        ensure_schema(self.db)
        self.clock = T0  # market time, advanced by every batch
        self.rng = np.random.default_rng(1)

    # -- feeding -----------------------------------------------------------------------------

    def batch(self, n: int = BATCH, symbols: list[str] = SYMBOLS, step_ms: int = 100) -> dict:
        """``n`` ticks spread over ``symbols``, market time moving ``step_ms``, plus one probe tick."""
        self.clock += step_ms
        names = [symbols[i % len(symbols)] for i in range(n)]
        prices = (100 + self.rng.normal(0, 0.5, n)).round(4).tolist()
        return {"s": [*names, PROBE], "t": [self.clock] * n + [self.clock], "p": [*prices, 100.0], "q": [1.0] * (n + 1)}

    def probe_ts(self) -> int:
        from tickflow.storage import keys

        return int(self.redis.hget(keys.last_tick(PROBE), "ts") or 0)

    def wait_probe(self, ts: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.probe_ts() < ts:
            if time.monotonic() > deadline:
                raise SystemExit("ticks were not applied in time; see var/bench/live-worker.log")
            time.sleep(0.001)

    def warm_up(self) -> None:
        for _ in range(20):
            self.send(self.batch())
        self.wait_probe(self.clock)

    # -- figures -------------------------------------------------------------------------------

    def ingest_rate(self, seconds: float) -> float:
        self.warm_up()
        sent, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            self.send(self.batch())
            sent += BATCH + 1
        send_rate = sent / (time.perf_counter() - started)
        self.wait_probe(self.clock)
        elapsed = time.perf_counter() - started
        rate = sent / elapsed
        report(
            "ingest",
            f"{sent:,} ticks in batches of {BATCH:,} over 100 symbols: sent at {send_rate:,.0f}/s, "
            f"all applied after {elapsed:.2f} s -> {rate:,.0f} ticks/s",
        )
        return round(rate)

    def naive_rate(self, ticks: int = 600) -> float:
        """One chain of four tasks per tick (each a one-tick batch), as the naive design would."""
        from celery import chain

        from workers.engine import CloseJob

        empty = CloseJob("1m", 0, 0, []).to_dict()
        started = time.perf_counter()
        for _ in range(ticks):
            chain(
                self.app.signature("tasks.live.ingest", args=[self.batch(0)], queue="ingest", immutable=True),
                self.app.signature("bench.naive_chain.indicators", args=[empty], queue="strategy", immutable=True),
                self.app.signature("bench.naive_chain.evaluate", queue="strategy"),
                self.app.signature("tasks.live.execute", queue="orders"),
            ).apply_async()
        self._wait_queues_empty()
        rate = ticks / (time.perf_counter() - started)
        report("naive", f"{ticks} ticks, one 4-task chain each: {rate:,.0f} ticks/s")
        return round(rate)

    def _wait_queues_empty(self) -> None:
        import redis as redis_lib

        broker = redis_lib.Redis.from_url(os.environ["CELERY_BROKER_URL"])
        while any(broker.llen(q) for q in ("ingest", "strategy", "orders")) or broker.hlen("unacked"):
            time.sleep(0.005)

    def tick_to_candle(self, rate: float, seconds: float, batch: int = BATCH) -> float:
        """Batches of ``batch`` ticks at ``rate`` ticks/s; a poller notes when each batch's probe tick shows up."""
        seen: dict[int, float] = {}
        stop = threading.Event()

        def poll() -> None:
            from tickflow.storage import keys
            from tickflow.storage.connections import redis_client

            client = redis_client()
            last = 0
            while not stop.is_set():
                ts = int(client.hget(keys.current_candle(PROBE, "1m"), "ct") or 0)
                if ts > last:
                    now = time.perf_counter()
                    for pending in list(sent):
                        if pending <= ts and pending not in seen:
                            seen[pending] = now
                    last = ts
                time.sleep(0.001)

        sent: dict[int, float] = {}
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        interval = batch / rate
        freeze_startup_objects()  # see _candle_batches
        started = time.perf_counter()
        next_at = started
        while time.perf_counter() - started < seconds:
            payload = self.batch(batch)
            sent[self.clock] = time.perf_counter()
            self.send(payload)
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        self.wait_probe(self.clock)
        time.sleep(0.05)
        stop.set()
        poller.join()
        latencies = [1000 * (seen[ts] - sent[ts]) for ts in sent if ts in seen]
        p50, p99 = np.percentile(latencies, [50, 99])
        report(
            "tick->candle",
            f"at {rate:,.0f} ticks/s ({len(latencies)} batches of {batch}): p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        )
        return round(float(p99), 1)

    def _start(self, doc: dict, mode: str = "paper") -> str:
        from tickflow.settings import live_settings
        from tickflow.storage.strategies import StrategyRepository
        from workers.engine import LiveEngine

        strategy_id = StrategyRepository(self.db, self.redis).create(doc).id
        LiveEngine(self.redis, self.db, live_settings()).start(strategy_id, mode, 10_000)
        return strategy_id

    def _candle_batches(
        self, symbols: list[str], minutes: int, pause_s: float, record: dict[int, float], gap_s: float = 0.020
    ) -> None:
        """Send ``minutes`` one-minute candles of ``symbols`` (4 ticks each), as a batching feed would.

        A real feed's publisher seals a batch every 20 ms (``BatchPublisher.batch_interval_s``),
        so the first ticks of a minute -- all symbols' opens, which close the previous
        minute -- travel in one batch, and the rest of the minute's ticks come in later
        batches. Here the rest (high, low, close) follows ``gap_s`` later as one batch, and
        the next minute starts once every symbol's close is processed and ``pause_s`` has passed.
        """
        from workers.progress import wait_candle_processed

        self.clock = self.clock - self.clock % MINUTE + MINUTE
        freeze_startup_objects()  # as the feed does: a full collection here (60-70 ms seen) would count as latency
        for minute in range(minutes):
            opens = 100 + self.rng.normal(0, 1, len(symbols))
            closes = opens + self.rng.normal(0, 1, len(symbols))
            record[self.clock] = time.perf_counter()  # the opening batch closes the previous minute
            self.send(
                {
                    "s": list(symbols),
                    "t": [self.clock] * len(symbols),
                    "p": opens.round(4).tolist(),
                    "q": [1.0] * len(symbols),
                }
            )
            time.sleep(gap_s)
            rest = (np.maximum(opens, closes) + 0.5, np.minimum(opens, closes) - 0.5, closes)
            self.send(
                {
                    "s": list(symbols) * 3,
                    "t": [self.clock + k * 15_000 for k in (1, 2, 3) for _ in symbols],
                    "p": np.concatenate(rest).round(4).tolist(),
                    "q": [1.0] * (3 * len(symbols)),
                }
            )
            self.clock += MINUTE
            if minute:  # every symbol's close, as a real minute's closes are long done when the next one comes
                for symbol in symbols:
                    if not wait_candle_processed(self.redis, symbol, "1m", self.clock - 2 * MINUTE, 30):
                        raise SystemExit("a close was not processed in 30 s; see var/bench/live-worker.log")
            time.sleep(pause_s)

    def close_to_order(self, minutes: int = 120) -> float:
        from tickflow.storage import keys

        symbol = ["ORDERUSDT"]
        self._start(
            {
                "name": "flip on colour",
                "symbols": symbol,
                "timeframe": "1m",
                "params": {},
                "indicators": {},
                "allow_reversal": True,
                "rules": {"enter_long": "close > open", "enter_short": "close < open"},
            }
        )
        sent: dict[int, float] = {}
        offset = time.time() - time.perf_counter()
        first_event = self.redis.xrevrange(keys.live_events(), count=1)
        after = first_event[0][0] if first_event else "0-0"
        self._candle_batches(symbol, minutes, 0.05, sent)
        latencies = []
        for id_, fields in self.redis.xrange(keys.live_events(), min=f"({after}"):
            if fields["type"] == "order":
                order = json.loads(fields["data"])
                if order["ts"] in sent:  # an order filled at this candle's open was decided at the close before
                    latencies.append(int(id_.split("-")[0]) - 1000 * (sent[order["ts"]] + offset))
        p50, p99 = np.percentile(latencies, [50, 99])
        report(
            "close->order",
            f"one strategy, {len(latencies)} orders: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
            "(event ids have 1 ms resolution)",
        )
        return round(float(p99), 1)

    def close_to_venue(self, venue: LocalVenue, minutes: int = 60) -> dict[str, float]:
        from tickflow.storage import keys
        from workers.broker import venue_broker

        venue.symbol("VENUEUSDT", "VENUE", "USDT", price=100, depth=1_000_000, step="0.00001", min_qty="0.00001")
        venue.balance(USDT=1_000_000_000, VENUE=0)
        venue_broker().rules("VENUEUSDT")
        symbol = ["VENUEUSDT"]
        doc = {
            "name": "long on green",
            "symbols": symbol,
            "timeframe": "1m",
            "params": {},
            "indicators": {},
            "rules": {"enter_long": "close > open", "exit_long": "close < open"},
        }
        self._start(doc, mode="live")
        sent: dict[int, float] = {}
        offset = time.time() - time.perf_counter()
        last = self.redis.xrevrange(keys.live_events(), count=1)
        after = last[0][0] if last else "0-0"
        self._candle_batches(symbol, minutes, 0.05, sent)
        closed_at = {ts: 1000 * (at + offset) for ts, at in sent.items()}
        booked = [
            int(order["time"]) - closed_at[ts]
            for order in venue.state()["orders"]
            if (ts := _candle_of(order["clientOrderId"])) in closed_at
        ]
        filled = []
        for id_, fields in self.redis.xrange(keys.live_events(), min=f"({after}"):
            if fields["type"] == "fill":
                fill = json.loads(fields["data"])
                if fill["ts"] in closed_at:
                    filled.append(int(id_.split("-")[0]) - closed_at[fill["ts"]])
        if not booked:
            raise SystemExit("no order reached the venue; see var/bench/live-worker.log and var/bench/venue.log")
        figures = {}
        for name, latencies in (("close_to_venue_ack", booked), ("close_to_venue_fill", filled)):
            p50, p99 = np.percentile(latencies, [50, 99])
            report(
                name.replace("close_to_venue_", "close->venue "),
                f"live mode, {len(latencies)} orders: p50 {p50:.1f} ms, p99 {p99:.1f} ms (1 ms resolution)",
            )
            figures[f"{name}_p99_ms"] = round(float(p99), 1)
        return figures

    def close_to_all(self, minutes: int = 40) -> float:
        from tickflow.storage import keys

        for n in range(10):
            self._start(
                {
                    "name": f"sma {n}",
                    "symbols": SYMBOLS,
                    "timeframe": "1m",
                    "params": {"fast": 5 + n, "slow": 30 + 2 * n},
                    "indicators": {
                        "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
                        "slow": {"function": "SMA", "params": {"timeperiod": "$slow"}},
                    },
                    "rules": {"enter_long": "crosses_above(fast, slow)", "exit_long": "crosses_below(fast, slow)"},
                }
            )
        sent: dict[int, float] = {}
        done: dict[int, float] = {}
        stop = threading.Event()
        processed = [keys.candle_processed(symbol, "1m") for symbol in SYMBOLS]

        def poll() -> None:
            from tickflow.storage.connections import redis_client

            client = redis_client()
            while not stop.is_set():
                values = client.mget(processed)
                if all(values):
                    through = min(int(v) for v in values)
                    now = time.perf_counter()
                    for candle_open in list(sent):
                        if candle_open - MINUTE <= through and candle_open not in done:
                            done[candle_open] = now
                time.sleep(POLL_S)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        self._candle_batches(SYMBOLS, minutes, 0.2, sent)
        time.sleep(0.1)
        stop.set()
        poller.join()
        warm = sorted(sent)[5:]  # the first closes include numba compiling in the workers
        latencies = [1000 * (done[t] - sent[t]) for t in warm if t in done]
        p50, p99 = np.percentile(latencies, [50, 99])
        report(
            "close->all",
            f"10 strategies x 100 symbols, {len(latencies)} closes: p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms (evaluated and executed)",
        )
        return round(float(p99), 1)


if __name__ == "__main__":
    sys.exit(main())
