"""Soak: the live stack at 10,000 ticks/s over 100 strategy-symbol pairs for a set time; memory at start and end.

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 10000] [--warm-up 0.2] [--sample-s 30]

Starts a throwaway Redis and MongoDB (free ports, under ``var/bench/``), stores 600 one-minute
candles of history for each of 100 symbols, and starts 10 paper strategies on 10 symbols each
(100 pairs, all ``1m``): 5 that reverse on every candle's colour (an order at nearly every
close) and 5 SMA crosses (3..7 over 8..16 bars), warmed up from that history. Then it runs,
each as the Procfile runs it with its log under ``var/bench/soak-<name>.log``:

* ``worker-live`` (``-Q ingest,strategy,orders -c 2 -P prefork``, log level INFO);
* ``beat``, with a schedule file of its own, so the outbox drain, reconciliation, liveness and
  cache refresh run as in production (the hourly prune would first run after an hour, so the
  bench sends it once itself, halfway through the warm-up: what its first run allocates in a pool
  process is then part of the warm state, as it is an hour into a real run; at the same moment it
  tops the live events stream up to its cap, which at this pace would take ~35 minutes to fill);
* ``feed``: ``tickflow feed --source simulated`` over the 100 symbols at ``--rate`` ticks/s
  (batches of at most 500 ticks, sealed every 20 ms: its defaults).

Market time is the clock: the simulated feed stamps each tick with the wall clock, and ticks more
than 5 s ahead of it would be quarantined (``workers/quarantine.py``), so time is not compressed:
each pair closes one candle a minute, 100 closes a minute in all.

Every ``--sample-s`` seconds it samples the RSS of every process (the worker's main process and
its two pool processes, beat, the feed, redis-server, mongod and this process), Redis's
``used_memory``, the ingest backlog (messages waiting or unacknowledged) and the feed's published
rate (its own rate lines). The run is "warm" after the first ``--warm-up`` fraction of it
(default 20 %: 6 of 30 minutes); growth is from the first sample after that to the last, and its
trend from the median of the first ``--trend-samples`` samples after that to the median of the last
as many (a sample is a moment: a pool process just before or after its heap is trimmed, Redis
during an AOF rewrite; the issue's <= 5 % is judged on the trend). At the
warm point and at the end it also measures every TickFlow key's memory by kind (``MEMORY
USAGE``, and Redis's ``MEMORY STATS``), to tell growth that stops by itself -- keys that expire (a
close's signals and order claims after 12 minutes on ``1m``, batch id bitmaps a day after their last
batch) and streams not yet at their cap -- from growth that would not. Ticks applied: the batch ids
ingest recorded (bits set in ``tf:live:batches:*``) times the feed's mean ticks per batch, once
the feed has stopped and the queue drained. Prints a line per sample, then the figures, then a
final JSON line. Not part of ``make bench``: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import procfile  # noqa: E402  (after the path insert)
from bench.candles import bench_services, report, worker_env  # noqa: E402
from bench.live import SYMBOLS  # noqa: E402

MINUTE = 60_000
HISTORY_BARS = 600
STRATEGIES = 10
LOGS = ROOT / "var/bench"
QUEUES = ("ingest", "strategy", "orders")
MB = 1024 * 1024
EXPIRING = ("tf:live:batches", "tf:live:signal", "tf:live:order")
"""Kinds of key written with a TTL: they grow until their first keys expire."""
CAPPED = ("tf:live:path", "tf:live:events")
"""Streams capped at 10,000 entries (per symbol, and in all): they grow until full."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the feed runs (default 30)")
    parser.add_argument("--rate", type=float, default=10_000.0, help="ticks/s the feed sends (default 10,000)")
    parser.add_argument("--warm-up", type=float, default=0.2, help="fraction of the run before it counts (0.2)")
    parser.add_argument("--sample-s", type=float, default=30.0, help="seconds between samples (default 30)")
    parser.add_argument(
        "--trend-samples", type=int, default=5, help="samples in each end of the trend's medians (default 5)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # stopped like Ctrl-C: the processes and stores are cleaned up
    with bench_services(cache_gb=0.25):
        seed()
        soak = Soak(args)
        try:
            soak.start()
            soak.run()
            soak.finish()
        finally:
            soak.stop()
    soak.print_figures()
    return 0


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


# -- the market and the strategies -------------------------------------------------------------------


def seed() -> None:
    """History for every symbol up to this minute, and 10 paper strategies on 10 symbols each."""
    from tickflow.settings import live_settings
    from tickflow.storage.candles import CandleStore
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.schema import ensure_schema
    from tickflow.storage.strategies import StrategyRepository
    from tickflow.synthetic import generate_candles
    from workers.engine import LiveEngine
    from workers.feeds.simulated import start_price

    db, client = mongo_db(), redis_client()
    ensure_schema(db)
    store = CandleStore(db)
    start = int(time.time() * 1000) // MINUTE * MINUTE - HISTORY_BARS * MINUTE
    for n, symbol in enumerate(SYMBOLS):
        store.upsert(symbol, "1m", generate_candles(HISTORY_BARS, "1m", start, seed=n, start_price=start_price(symbol)))
    strategies = StrategyRepository(db, client)
    engine = LiveEngine(client, db, live_settings())
    for n in range(STRATEGIES):
        symbols = SYMBOLS[n::STRATEGIES]
        spec = flip_on_colour(n, symbols) if n % 2 else sma_cross(n, symbols)
        engine.start(strategies.create(spec).id, "paper", 10_000)
    report("strategies", f"{STRATEGIES} x {len(SYMBOLS) // STRATEGIES} symbols on 1m, {HISTORY_BARS} bars of history")


def flip_on_colour(n: int, symbols: list[str]) -> dict:
    return {
        "name": f"soak flip {n}",
        "symbols": symbols,
        "timeframe": "1m",
        "params": {},
        "indicators": {},
        "allow_reversal": True,
        "rules": {"enter_long": "close > open", "enter_short": "close < open"},
    }


def sma_cross(n: int, symbols: list[str]) -> dict:
    from strategies.examples import load_example

    spec = {**load_example("sma_cross"), "name": f"soak sma {n}", "symbols": symbols, "timeframe": "1m"}
    return {**spec, "params": {"fast": 3 + n // 2, "slow": 8 + n}}


# -- the processes and the samples ---------------------------------------------------------------------


@dataclass
class Sample:
    at: float
    """Seconds since the feed started."""
    rss: dict[str, int]
    redis_used: int
    backlog: int
    feed_rate: float | None
    cpu_s: dict[str, float] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    machine_busy_s: float = 0.0
    """CPU seconds the whole machine has spent busy (all cores, every process: other users' too)."""


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        import redis

        from tickflow.storage.connections import mongo_db, redis_client

        self.args = args
        self.redis = redis_client()
        self.broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], decode_responses=True)
        self.db = mongo_db()
        self.processes: dict[str, object] = {}
        self.samples: list[Sample] = []
        self.kinds: dict[str, dict[str, tuple[int, int, int]]] = {}
        self.memory_stats: dict[str, dict[str, int]] = {}
        self.feed_lines = 0
        self.feed_rates: list[tuple[float, float, float]] = []
        self.totals: dict[str, float] = {}

    # -- starting and stopping

    def start(self) -> None:
        from cli.localservices import ProcfileProcess

        env = {"PYTHONPATH": worker_env()["PYTHONPATH"], "LOG_LEVEL": "INFO"}
        schedule = LOGS / f"soak-beat-schedule-{os.getpid()}"
        lines = {
            "worker-live": procfile("worker-live"),
            "beat": _replaced(procfile("beat"), r"--schedule \S+", f"--schedule {schedule}"),
            "feed": procfile("feed"),
        }
        feed_args = f"--source simulated --symbols {','.join(SYMBOLS)} --rate {self.args.rate:g} --report-every 10"
        for name, line in lines.items():
            # the feed's arguments as a deployment sets them; its rate lines are read back from its JSON log
            extra = {"LOG_FORMAT": "json", "TICKFLOW_FEED_ARGS": feed_args} if name == "feed" else {}
            self.processes[name] = ProcfileProcess(line, {**env, **extra}, LOGS / f"soak-{name}.log", ROOT)
            if name == "worker-live":
                self._wait_worker()
        self.started = time.monotonic()
        rate = f"{self.args.rate:,.0f} ticks/s"
        report("processes", f"worker-live (2 prefork), beat, feed at {rate}; logs in var/bench/soak-*.log")
        report("warm-up", f"the first {self.args.warm_up:.0%} of {self.args.minutes:g} minutes")

    def _wait_worker(self) -> None:
        from tasks.celery_app import app

        worker = self.processes["worker-live"]
        deadline = time.monotonic() + 90
        while not app.control.ping(timeout=0.5):
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the live worker did not start:\n{worker.tail()}")

    def stop(self) -> None:
        for name in ("feed", "beat", "worker-live"):
            if name in self.processes:
                self.processes[name].stop()
        for path in LOGS.glob(f"soak-beat-schedule-{os.getpid()}*"):  # beat's shelve: .dat, .dir, .bak
            path.unlink()

    # -- sampling

    def pids(self) -> dict[str, int]:
        worker = self.processes["worker-live"].process.pid
        children = sorted(child.pid for child in psutil.Process(worker).children())
        return {
            "worker main": worker,
            **{f"worker pool {i + 1}": pid for i, pid in enumerate(children)},
            "beat": self.processes["beat"].process.pid,
            "feed": self.processes["feed"].process.pid,
            "redis-server": int(self.redis.info("server")["process_id"]),
            "mongod": int(self.db.command("serverStatus")["pid"]),
            "bench": os.getpid(),
        }

    def sample(self) -> Sample:
        rss, cpu, pids = {}, {}, self.pids()
        for name, pid in pids.items():
            process = psutil.Process(pid)
            with process.oneshot():
                rss[name] = process.memory_info().rss
                times = process.cpu_times()
                cpu[name] = times.user + times.system
        backlog = sum(self.broker.llen(queue) for queue in QUEUES) + self.broker.hlen("unacked")
        taken = Sample(
            time.monotonic() - self.started,
            rss,
            int(self.redis.info("memory")["used_memory"]),
            backlog,
            self._feed_rate(),
            cpu,
            pids,
            _machine_busy_s(),
        )
        self.samples.append(taken)
        rates = "" if taken.feed_rate is None else f" | feed {taken.feed_rate:,.0f} ticks/s"
        report(
            f"t={taken.at:5.0f} s",
            "RSS MB "
            + " ".join(f"{_short(name)} {value / MB:.0f}" for name, value in rss.items())
            + f" | redis used {taken.redis_used / MB:.1f} MB | backlog {backlog}{rates}",
        )
        return taken

    def _feed_rate(self) -> float | None:
        """The mean published rate of the feed's rate lines since the last sample."""
        lines = (LOGS / "soak-feed.log").read_text(errors="replace").splitlines()
        new, self.feed_lines = lines[self.feed_lines :], len(lines)
        rates = []
        for line in new:
            try:
                msg = json.loads(line).get("msg", "")
            except ValueError:
                continue
            if found := re.search(r"feed: ([\d.]+) ticks/s, ([\d.]+) batches/s published", msg):
                rates.append((time.monotonic() - self.started, float(found[1]), float(found[2])))
            elif found := re.search(r"(\d+) ticks published in (\d+) batches, (\d+) dropped", msg):
                self.totals.update(ticks=int(found[1]), batches=int(found[2]), dropped=int(found[3]))
        self.feed_rates += rates
        return sum(rate for _, rate, _ in rates) / len(rates) if rates else None

    def kinds_of_keys(self) -> dict[str, tuple[int, int, int]]:
        """Per kind of TickFlow key (its name up to the id): keys, bytes (``MEMORY USAGE``), longest TTL (s)."""
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0, -1])
        batch: list[str] = []

        def measure() -> None:
            pipe = self.redis.pipeline(transaction=False)
            for key in batch:
                pipe.memory_usage(key)
                pipe.ttl(key)
            replies = pipe.execute()
            for key, used, ttl in zip(batch, replies[::2], replies[1::2]):
                kind = found[_kind(key)]
                kind[0] += 1
                kind[1] += used or 0
                kind[2] = max(kind[2], ttl)
            batch.clear()

        for key in self.redis.scan_iter(match="tf:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                measure()
        measure()
        return {kind: tuple(values) for kind, values in sorted(found.items())}

    def batches_marked(self) -> int:
        """Batch ids ingest has marked applied: the bits set in every feed run's marker bitmaps."""
        from tickflow.storage import keys

        markers = list(self.redis.scan_iter(match=keys.ingested_batches("*", "*"), count=1000))
        return sum(self.redis.bitcount(marker) for marker in markers)

    def redis_memory_stats(self) -> dict[str, int]:
        """Redis's own account of ``used_memory`` (``MEMORY STATS``), flattened: ``db.0.overhead.hashtable.main``,
        ``clients.normal``, ``dataset.bytes``... It holds what no key's ``MEMORY USAGE`` does: the key
        tables, client buffers, script caches."""
        flat: dict[str, int] = {}

        def walk(prefix: str, value: object) -> None:
            if isinstance(value, dict):
                for name, inner in value.items():
                    walk(f"{prefix}{name}.", inner)
            elif isinstance(value, int):
                flat[prefix.rstrip(".")] = value

        walk("", self.redis.memory_stats())
        return flat

    # -- the run

    def run(self) -> None:
        total_s = self.args.minutes * 60
        warm_s = total_s * self.args.warm_up
        self.sample()
        next_at = self.args.sample_s
        warm_done = pruned = False
        while (elapsed := time.monotonic() - self.started) < total_s:
            for name in ("worker-live", "beat", "feed"):
                if self.processes[name].process.poll() is not None:
                    raise SystemExit(f"{name} exited:\n{self.processes[name].tail()}")
            if not pruned and elapsed >= warm_s / 2:
                pruned = True
                self._prune_once()
                self._fill_events_stream()
            if not warm_done and elapsed >= warm_s:
                warm_done = True
                self.warm = len(self.samples)
                self.sample()
                self.kinds["warm"] = self.kinds_of_keys()
                self.memory_stats["warm"] = self.redis_memory_stats()
                self.warm_batches = self.batches_marked()
                next_at = elapsed + self.args.sample_s
            elif elapsed >= next_at:
                self.sample()
                next_at += self.args.sample_s
            time.sleep(0.5)
        self.sample()
        self.kinds["end"] = self.kinds_of_keys()
        self.memory_stats["end"] = self.redis_memory_stats()
        self.end_batches = self.batches_marked()

    def _fill_events_stream(self) -> None:
        """Top the live events stream up to its cap with copies of its own entries, as it is after the first hour
        of a run: at the soak's pace (~300 events a minute) it would fill only after ~35 minutes, and its filling
        would count as growth."""
        from tickflow.settings import live_settings
        from tickflow.storage import keys

        cap = live_settings().events_length
        entries = [fields for _, fields in self.redis.xrange(keys.live_events(), count=cap)]
        missing = cap - self.redis.xlen(keys.live_events())
        if not entries or missing <= 0:
            return
        pipe = self.redis.pipeline(transaction=False)
        for n in range(missing):
            pipe.xadd(keys.live_events(), entries[n % len(entries)], maxlen=cap, approximate=True)
        pipe.execute()
        report("events", f"stream topped up to its cap of {cap:,} with {missing:,} copies of its entries")

    def _prune_once(self) -> None:
        from tasks.beat import QUEUE
        from tasks.celery_app import app

        app.send_task("tasks.maintenance.prune_live_keys", queue=QUEUE)

    def finish(self) -> None:
        """Stop the feed (it flushes), let the queues drain, count what ingest applied and what was traded."""
        from tickflow.storage import keys

        feed_stopped = time.monotonic()
        self.processes["feed"].stop()
        self.feed_s = feed_stopped - self.started
        deadline = time.monotonic() + 120
        while sum(self.broker.llen(queue) for queue in QUEUES) or self.broker.hlen("unacked"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.drained_s = time.monotonic() - feed_stopped
        self._feed_rate()  # its last line: the totals
        self.applied_batches = self.batches_marked()
        now = int(time.time() * 1000)
        marks = self.redis.mget([keys.candle_processed(symbol, "1m") for symbol in SYMBOLS])
        reconcile = self.redis.hgetall(keys.reconcile_status())
        worker_log = (LOGS / "soak-worker-live.log").read_text(errors="replace")
        self.trading = {
            "fills": self.redis.hlen(keys.paper_fills()),
            "trades": self.db["trade_logs"].count_documents({}),
            "signal_keys": self.kinds["end"].get("tf:live:signal", (0, 0, 0))[0],
            "closes_behind_max": max((now - int(m or 0)) // MINUTE - 1 for m in marks),
            "quarantined": sum(int(v) for v in self.redis.hvals(keys.quarantined_ticks())),
            "late": sum(int(v) for v in self.redis.hvals(keys.late_ticks())),
            "reconcile_runs": int(reconcile.get("runs", 0)),
            "mismatches": int(reconcile.get("mismatches", 0)),
            "worker_errors": len(re.findall(r'level=(?:error|critical)|"level": "(?:error|critical)"', worker_log)),
            "prune_ran": "prune_live_keys: {" in worker_log,
        }

    # -- the figures

    def print_figures(self) -> None:
        warm, end = self.samples[self.warm], self.samples[-1]
        window_s = end.at - warm.at
        figures: dict[str, object] = {
            "minutes": self.args.minutes,
            "warm_up_s": round(warm.at),
            "rate_target": self.args.rate,
        }
        report("window", f"warm at {warm.at:.0f} s, end at {end.at:.0f} s ({window_s / 60:.1f} minutes measured)")
        growth = {}
        for name in end.rss:
            before = warm.rss.get(name)
            if before is None:
                continue
            growth[name] = 100 * (end.rss[name] - before) / before
            cpu = 100 * (end.cpu_s[name] - warm.cpu_s[name]) / window_s
            rss = f"{before / MB:7.1f} -> {end.rss[name] / MB:7.1f} MB ({growth[name]:+5.1f} %)"
            report("rss", f"{name:<14} {rss}, CPU {cpu:3.0f} % of a core")
        trend = self._trend(lambda sample: sample.rss, list(growth))
        medians = f"median of the last {self.args.trend_samples} samples over the first"
        for name, pct in trend.items():
            report("rss trend", f"{name:<14} {pct:+5.1f} % ({medians})")
        if self.samples[0].pids != end.pids:
            report("note", f"processes were replaced during the run: {self.samples[0].pids} -> {end.pids}")
        figures["rss_mb"] = {name: [round(warm.rss[name] / MB, 1), round(end.rss[name] / MB, 1)] for name in growth}
        figures["rss_growth_pct"] = {name: round(pct, 1) for name, pct in growth.items()}
        figures["rss_growth_max_pct"] = round(max(growth.values()), 1)
        figures["rss_trend_pct"] = {name: round(pct, 1) for name, pct in trend.items()}
        figures["rss_trend_max_pct"] = round(max(trend.values()), 1)
        ours = sum(end.cpu_s[name] - warm.cpu_s[name] for name in growth) / window_s
        busy = (end.machine_busy_s - warm.machine_busy_s) / window_s
        report(
            "cpu",
            f"the machine busy {busy:.2f} of {psutil.cpu_count()} cores while warm, these processes {ours:.2f}"
            f" (the rest: other users of the machine)",
        )
        figures.update(cpu_cores_machine=round(busy, 2), cpu_cores_soak=round(ours, 2))

        redis_growth = 100 * (end.redis_used - warm.redis_used) / warm.redis_used
        report(
            "redis used",
            f"{warm.redis_used / MB:.1f} -> {end.redis_used / MB:.1f} MB ({redis_growth:+.1f} %)",
        )
        figures["redis_used_mb"] = [round(warm.redis_used / MB, 1), round(end.redis_used / MB, 1)]
        figures["redis_growth_pct"] = round(redis_growth, 1)
        redis_trend = self._trend(lambda sample: {"used": sample.redis_used}, ["used"])["used"]
        report("redis trend", f"used_memory {redis_trend:+.1f} % (median of the last samples over the first)")
        figures["redis_trend_pct"] = round(redis_trend, 1)
        figures.update(self._redis_kinds(warm, end, window_s))

        rates = [rate for at, rate, _ in self.feed_rates if at > warm.at]
        batch_rates = [b for at, _, b in self.feed_rates if at > warm.at]
        published = sum(rates) / len(rates) if rates else 0.0
        if self.totals.get("batches"):
            ticks_per_batch = self.totals["ticks"] / self.totals["batches"]
        else:  # the feed's last line is missing: its rate lines' ratio
            ticks_per_batch = sum(rates) / max(1e-9, sum(batch_rates))
        applied_s = (self.end_batches - self.warm_batches) * ticks_per_batch / window_s
        report(
            "feed",
            f"published {published:,.0f} ticks/s while warm ({sum(batch_rates) / max(1, len(batch_rates)):,.1f} "
            f"batches/s); in all {self.totals.get('ticks', 0):,} ticks in {self.totals.get('batches', 0):,} batches, "
            f"{self.totals.get('dropped', 0):,} dropped",
        )
        report(
            "ingest",
            f"{self.applied_batches:,} batches applied of {self.totals.get('batches', 0):,} published "
            f"(queues drained {self.drained_s:.1f} s after the feed stopped); while warm "
            f"~{applied_s:,.0f} ticks/s applied ({ticks_per_batch:.0f} ticks a batch)",
        )
        backlog = max(s.backlog for s in self.samples[self.warm :])
        report("backlog", f"at most {backlog} messages waiting or unacknowledged at a sample while warm")
        report("trading", ", ".join(f"{k} {v}" for k, v in self.trading.items()))
        figures.update(
            ticks_per_s_published=round(published),
            ticks_per_s_applied=round(applied_s),
            batches_published=self.totals.get("batches", 0),
            batches_applied=self.applied_batches,
            backlog_max=backlog,
            **self.trading,
        )
        print(json.dumps(figures))

    def _trend(self, values: Callable[[Sample], dict[str, int]], names: list[str]) -> dict[str, float]:
        """Per name: growth of the median of the last ``--trend-samples`` samples over that of the first as many from
        the warm point on. One sample is a moment: a pool process just before or after its heap is trimmed (once a
        minute), Redis during an AOF rewrite; the medians follow the trend through that."""
        count = self.args.trend_samples
        warm = self.samples[self.warm :]
        first, last = warm[:count], warm[-count:]
        trend = {}
        for name in names:
            before = statistics.median(values(sample).get(name, 0) for sample in first)
            after = statistics.median(values(sample).get(name, 0) for sample in last)
            trend[name] = 100 * (after - before) / before if before else 0.0
        return trend

    def _redis_kinds(self, warm: Sample, end: Sample, window_s: float) -> dict[str, object]:
        """Redis growth by kind of key; the rest of ``used_memory`` once expiring keys and filling streams are
        taken out; and what the expiring kinds hold once their first keys expire, at this run's pace."""
        before, after = self.kinds["warm"], self.kinds["end"]
        bounded = {"warm": 0, "end": 0}
        projected = {}
        for kind in sorted(set(before) | set(after)):
            (n0, b0, _), (n1, b1, ttl) = before.get(kind, (0, 0, -1)), after.get(kind, (0, 0, -1))
            if kind.startswith(EXPIRING) or kind.startswith(CAPPED):
                bounded["warm"] += b0
                bounded["end"] += b1
            if b1 < 64 * 1024 and b0 < 64 * 1024:
                continue  # too small to matter
            note = ""
            if kind.startswith(EXPIRING) and n1 > n0 and ttl > 0:
                per_key = b1 / n1
                steady = (n1 - n0) / window_s * ttl * per_key
                projected[kind] = round(steady / MB)
                note = f"; at this pace {steady / MB:,.0f} MB once the first expire ({ttl / 86_400:.0f} d TTL)"
            report(f"  {kind}", f"{n0:,} -> {n1:,} keys, {b0 / MB:.2f} -> {b1 / MB:.2f} MB{note}")
        stats0, stats1 = self.memory_stats["warm"], self.memory_stats["end"]
        for name in sorted(set(stats0) & set(stats1)):
            if name.endswith(("bytes", "allocated", "main", "expires", "normal", "caches", "count")) and (
                abs(stats1[name] - stats0[name]) >= 64 * 1024 or name.endswith("count")
            ):
                report(f"  MEMORY STATS {name}", f"{stats0[name]:,} -> {stats1[name]:,}")
        rest0, rest1 = warm.redis_used - bounded["warm"], end.redis_used - bounded["end"]
        rest_growth = 100 * (rest1 - rest0) / rest0
        report(
            "redis rest",
            f"{rest0 / MB:.1f} -> {rest1 / MB:.1f} MB ({rest_growth:+.1f} %): used_memory without the keys that "
            "expire (batch ids, signals, order claims) and the capped streams (price paths, events)",
        )
        return {
            "redis_rest_mb": [round(rest0 / MB, 1), round(rest1 / MB, 1)],
            "redis_rest_growth_pct": round(rest_growth, 1),
            "redis_steady_mb_projected": projected,
        }


def _short(name: str) -> str:
    """``worker pool 1`` -> ``pool1``, ``redis-server`` -> ``redis``: the sample lines' labels."""
    return name.removeprefix("worker ").replace("pool ", "pool").removesuffix("-server")


def _machine_busy_s() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _kind(key: str) -> str:
    """``tf:live:candles:S001USDT:1m`` -> ``tf:live:candles``; ``tf:strategy:<id>`` -> ``tf:strategy``."""
    parts = key.split(":")
    return ":".join(parts[:3] if parts[1] == "live" else parts[:2])


def _replaced(line: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, line)
    if count != 1:
        raise SystemExit(f"the Procfile line {line!r} has no {pattern!r} to replace")
    return changed


if __name__ == "__main__":
    sys.exit(main())
