"""Candle storage benchmark: bucketed packed columns against one document per candle.

    .venv/bin/python bench/candles.py [--bars 1000000]

Generates synthetic 1m candles, then times importing them, importing them
again (idempotent: nothing may be rewritten), loading them into numpy
(median of 5), and, for comparison, the naive layout of one document per
candle loaded into the same arrays. Prints one line per figure, then a
final JSON line for machines.

Uses the MongoDB server of ``MONGO_URI`` (default: the local development
one). If none answers there, a throwaway server is started under
``var/bench/`` on a free port and removed afterwards. The work happens in a
scratch database ``<name>_bench``, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

import numpy as np  # noqa: E402
from pymongo import ASCENDING, MongoClient  # noqa: E402
from pymongo.errors import PyMongoError  # noqa: E402

from cli.localservices import LocalMongo, free_port  # noqa: E402
from strategies.candles import COLUMNS, Candles  # noqa: E402
from tickflow.settings import get_settings  # noqa: E402
from tickflow.storage.candles import CandleStore, bucket_count  # noqa: E402
from tickflow.storage.schema import ensure_schema  # noqa: E402
from tickflow.synthetic import generate_candles  # noqa: E402

SYMBOL = "BENCHUSDT"
TIMEFRAME = "1m"
NAIVE_COLLECTION = "naive_candles"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="candles to generate (default 1,000,000)")
    args = parser.parse_args(argv)

    candles = generate_candles(args.bars, TIMEFRAME)
    report("bars", f"{len(candles):,} ({TIMEFRAME}, {bucket_count(TIMEFRAME, candles.ts)} buckets)")
    with mongo_server() as uri:
        client = MongoClient(uri)
        db = client[f"{get_settings().mongo_db_name}_bench"]
        client.drop_database(db.name)
        try:
            ensure_schema(db)
            figures = {**bucketed(db, candles), **naive(db, candles), "bars": len(candles)}
        finally:
            client.drop_database(db.name)
            client.close()
    print(json.dumps(figures))


def bucketed(db, candles: Candles) -> dict[str, float]:
    store = CandleStore(db)
    import_s, first = timed(lambda: store.upsert(SYMBOL, TIMEFRAME, candles))
    report("import", f"{import_s:.3f} s ({first.buckets_written} buckets written)")
    reimport_s, again = timed(lambda: store.upsert(SYMBOL, TIMEFRAME, candles))
    assert again.buckets_written == 0 and again.unchanged == len(candles), again
    report("re-import", f"{reimport_s:.3f} s (0 buckets rewritten)")
    load_s, loaded = median_of(5, lambda: store.load(SYMBOL, TIMEFRAME))
    assert_same(loaded, candles)
    report("load", f"{load_s:.3f} s (median of 5)")
    return {"import_s": round(import_s, 3), "reimport_s": round(reimport_s, 3), "load_s": round(load_s, 4)}


def naive(db, candles: Candles) -> dict[str, float]:
    """The layout buckets replace: one document per candle, indexed by time, read into the same arrays."""
    collection = db[NAIVE_COLLECTION]
    collection.create_index([("symbol", ASCENDING), ("timeframe", ASCENDING), ("ts", ASCENDING)], unique=True)
    insert_s = naive_insert(collection, candles)
    report("naive insert", f"{insert_s:.3f} s")

    def load() -> Candles:
        cursor = collection.find(
            {"symbol": SYMBOL, "timeframe": TIMEFRAME},
            {"_id": 0, **dict.fromkeys(COLUMNS, 1)},
            sort=[("ts", ASCENDING)],
            batch_size=10_000,
        )
        rows = list(cursor)
        return Candles.from_columns(
            {name: np.fromiter((row[name] for row in rows), float, len(rows)) for name in COLUMNS}
        )

    load_s, loaded = median_of(3, load)
    assert_same(loaded, candles)
    report("naive load", f"{load_s:.3f} s (median of 3)")
    return {"naive_insert_s": round(insert_s, 3), "naive_load_s": round(load_s, 3)}


def naive_insert(collection, candles: Candles) -> float:
    """Seconds to insert one document per candle (building the documents is not timed)."""
    columns = {name: getattr(candles, name).tolist() for name in COLUMNS}
    docs = [{"symbol": SYMBOL, "timeframe": TIMEFRAME, **dict(zip(COLUMNS, row))} for row in zip(*columns.values())]
    seconds, _ = timed(lambda: collection.insert_many(docs, ordered=False))
    return seconds


@contextmanager
def mongo_server() -> Iterator[str]:
    """The configured MongoDB if it answers, else a throwaway one that is removed afterwards."""
    uri = get_settings().mongo_uri
    if answers(uri):
        report("mongodb", f"{uri} (configured)")
        yield uri
        return
    data_dir = ROOT / "var/bench/mongo"
    server = LocalMongo(free_port(), data_dir, cache_gb=1)
    server.ensure_running()
    report("mongodb", f"{server.uri} (throwaway, under {data_dir.relative_to(ROOT)})")
    try:
        yield server.uri
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def answers(uri: str) -> bool:
    client = MongoClient(uri, serverSelectionTimeoutMS=1500)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def median_of(runs: int, action: Callable[[], object]) -> tuple[float, object]:
    """The median time of ``runs`` runs, and the last run's result."""
    seconds = []
    for _ in range(runs):
        elapsed, result = timed(action)
        seconds.append(elapsed)
    return statistics.median(seconds), result


def assert_same(actual: Candles, expected: Candles) -> None:
    for name in COLUMNS:
        assert getattr(actual, name).tobytes() == getattr(expected, name).tobytes(), f"{name} differs after loading"


def report(what: str, figure: str) -> None:
    print(f"{what:<14} {figure}", flush=True)


def worker_env() -> dict[str, str]:
    """This process's environment for a worker subprocess, with the checkout importable (``-A tasks``)."""
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@contextmanager
def bench_services(cache_gb: float) -> Iterator[None]:
    """A throwaway Redis and MongoDB under ``var/bench/`` for this process and the workers it starts:
    their URLs go into the environment before anything reads the settings."""
    import os

    from cli.localservices import scratch_services

    with scratch_services(ROOT / "var/bench", "tickflow_bench", cache_gb=cache_gb) as env:
        os.environ.update(env, TICKFLOW_ENV="development")
        report("services", f"{env['REDIS_URL']}, {env['MONGO_URI']} (throwaway, under var/bench/)")
        yield


if __name__ == "__main__":
    main()
