"""The candle repository against a real MongoDB: layout, round trips, merging, races, validation."""

import threading
import time

import numpy as np
import pytest

from strategies.candles import COLUMNS, PRICE_COLUMNS, TIMEFRAME_MS, Candles
from tickflow.storage.candles import (
    BUCKET_BARS,
    CandleDataError,
    CandleStore,
    bucket_count,
    bucket_span_ms,
    validate_candles,
)
from tickflow.storage.schema import HISTORICAL_CANDLES
from tickflow.synthetic import generate_candles

DAY_MS = 86_400_000
START = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a bucket boundary for every timeframe but 1d


def assert_same(actual: Candles, expected: Candles) -> None:
    """Equal bit for bit, column by column."""
    assert len(actual) == len(expected)
    for name in COLUMNS:
        assert getattr(actual, name).tobytes() == getattr(expected, name).tobytes(), name


def replaced(candles: Candles, **columns: np.ndarray) -> Candles:
    return Candles(*(columns.get(name, getattr(candles, name)) for name in COLUMNS))


def versions(db) -> dict[int, int]:
    return {doc["start"]: doc["version"] for doc in db[HISTORICAL_CANDLES].find({}, {"start": 1, "version": 1})}


@pytest.fixture
def store(db):
    return CandleStore(db)


def test_loading_returns_the_imported_candles_bit_for_bit(store):
    candles = generate_candles(5000, start_ms=START + 7 * 60_000, seed=3)
    awkward = candles.close.copy()
    awkward[:3] = [0.1 + 0.2, 1 / 3, 5e-324 + 100]  # values that a decimal round trip would disturb
    volume = candles.volume.copy()
    volume[:2] = [-0.0, 5e-324]
    candles = replaced(
        candles,
        close=awkward,
        high=np.maximum(candles.high, awkward),
        low=np.minimum(candles.low, awkward),
        volume=volume,
    )

    summary = store.upsert("BTCUSDT", "1m", candles)

    assert_same(store.load("BTCUSDT", "1m"), candles)
    assert (summary.received, summary.inserted, summary.updated, summary.unchanged) == (5000, 5000, 0, 0)
    assert (summary.first_ts, summary.last_ts) == (int(candles.ts[0]), int(candles.ts[-1]))


def test_each_bucket_is_one_document_of_packed_columns_spanning_a_fixed_number_of_bars(store, db):
    candles = generate_candles(BUCKET_BARS + 10, "5m", start_ms=START)
    store.upsert("ETHUSDT", "5m", candles)

    docs = list(db[HISTORICAL_CANDLES].find({}, sort=[("start", 1)]))

    span = bucket_span_ms("5m")
    assert span == 5 * DAY_MS
    assert [doc["start"] for doc in docs] == [START // span * span, START // span * span + span]
    first = docs[0]
    assert first["count"] == int(np.count_nonzero(candles.ts < docs[1]["start"]))
    assert (first["first_ts"], first["last_ts"]) == (int(candles.ts[0]), int(candles.ts[first["count"] - 1]))
    assert first["version"] == 1
    assert np.frombuffer(first["ts"], "<i8").tolist() == candles.ts[: first["count"]].tolist()
    assert np.frombuffer(first["close"], "<f8").tobytes() == candles.close[: first["count"]].tobytes()
    assert sum(doc["count"] for doc in docs) == len(candles)


def test_range_loads_cut_across_bucket_boundaries(store):
    candles = generate_candles(4 * BUCKET_BARS, "1m", start_ms=START)
    store.upsert("BTCUSDT", "1m", candles)
    start, end = START + DAY_MS - 30 * 60_000, START + 2 * DAY_MS + 45 * 60_000  # from day 1 into day 3

    assert_same(store.load("BTCUSDT", "1m", start, end), candles.between(start, end))
    assert_same(store.load("BTCUSDT", "1m", start_ms=start), candles.between(start, None))
    assert_same(store.load("BTCUSDT", "1m", end_ms=end), candles.between(None, end))
    assert len(store.load("BTCUSDT", "1m", START - DAY_MS, START)) == 0
    assert len(store.load("BTCUSDT", "1m", START + 90, START + 120)) == 0  # between two bars


def test_loading_a_series_that_was_never_imported_gives_no_candles(store):
    loaded = store.load("NOPE", "1h")
    assert len(loaded) == 0 and loaded.ts.dtype == np.int64


def test_series_are_kept_apart_by_symbol_and_timeframe(store):
    one, other = (generate_candles(100, "1m", start_ms=START, seed=seed) for seed in (1, 2))
    store.upsert("AAA", "1m", one)
    store.upsert("BBB", "1m", other)
    store.upsert("AAA", "5m", generate_candles(10, "5m", start_ms=START))

    assert_same(store.load("AAA", "1m"), one)
    assert_same(store.load("BBB", "1m"), other)
    assert len(store.load("AAA", "5m")) == 10


def test_reimporting_the_same_candles_rewrites_no_bucket(store, db):
    candles = generate_candles(3 * BUCKET_BARS, "1m", start_ms=START)
    store.upsert("BTCUSDT", "1m", candles)
    before = versions(db)

    summary = store.upsert("BTCUSDT", "1m", candles)

    assert versions(db) == before == {START + i * DAY_MS: 1 for i in range(3)}
    assert (summary.inserted, summary.updated, summary.unchanged, summary.buckets_written) == (0, 0, len(candles), 0)


def test_an_overlapping_import_merges_new_values_winning_and_other_candles_kept(store, db):
    old = generate_candles(2000, "1m", start_ms=START, seed=1)
    new = generate_candles(2000, "1m", start_ms=START + 1000 * 60_000, seed=2)  # overlaps old's last 1000 bars
    new = replaced(
        new, **{name: np.r_[getattr(old, name)[1000:1010], getattr(new, name)[10:]] for name in PRICE_COLUMNS}
    )  # 10 of the overlapping bars sent again unchanged
    store.upsert("BTCUSDT", "1m", old)

    summary = store.upsert("BTCUSDT", "1m", new)

    loaded = store.load("BTCUSDT", "1m")
    assert_same(loaded.between(None, int(new.ts[0])), old.between(None, int(new.ts[0])))
    assert_same(loaded.between(int(new.ts[0]), None), new)
    assert (summary.inserted, summary.updated, summary.unchanged) == (1000, 990, 10)
    assert summary.buckets_written == 3  # bars 1000..2999 touch days 1 to 3


def test_candles_imported_into_a_gap_are_merged_in_time_order(store):
    candles = generate_candles(300, "1m", start_ms=START)
    evens, odds = (Candles(*(getattr(candles, n)[parity::2] for n in COLUMNS)) for parity in (0, 1))
    store.upsert("BTCUSDT", "1m", evens)
    summary = store.upsert("BTCUSDT", "1m", odds)

    assert_same(store.load("BTCUSDT", "1m"), candles)
    assert (summary.inserted, summary.buckets_written) == (150, 1)


def test_concurrent_imports_into_the_same_buckets_lose_no_candle(db):
    candles = generate_candles(5 * BUCKET_BARS, "1m", start_ms=START)
    middle = len(candles) // 2
    first_half = Candles(*(getattr(candles, n)[: middle + 500] for n in COLUMNS))
    second_half = Candles(*(getattr(candles, n)[middle - 500 :] for n in COLUMNS))
    for _ in range(20):  # until the two imports have really collided at least once
        db[HISTORICAL_CANDLES].delete_many({})
        barrier = threading.Barrier(2)
        summaries = []

        def run(part: Candles, barrier: threading.Barrier = barrier, summaries: list = summaries) -> None:
            store = CandleStore(db)
            barrier.wait()
            summaries.append(store.upsert("BTCUSDT", "1m", part))

        threads = [threading.Thread(target=run, args=(part,)) for part in (first_half, second_half)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert_same(CandleStore(db).load("BTCUSDT", "1m"), candles)
        assert sum(s.inserted for s in summaries) == len(candles)
        assert sum(s.unchanged for s in summaries) == 1000  # the overlap, identical in both
        if any(s.conflicts for s in summaries):
            return
    pytest.fail("20 pairs of concurrent imports never raced for a bucket")


def bad(candles: Candles, column: str, index: int, value: float) -> Candles:
    values = getattr(candles, column).copy()
    values[index] = value
    return replaced(candles, **{column: values})


def valid() -> Candles:
    return generate_candles(3 * BUCKET_BARS, "1m", start_ms=START)


LATE = 2 * BUCKET_BARS + 5  # in the third bucket: the first two must not be written either
LATE_ISO = "2024-01-03T00:05:00Z"


@pytest.mark.parametrize(
    "broken, message",
    [
        (
            bad(valid(), "ts", LATE, START + LATE * 60_000 + 30_000),
            "candle 2024-01-03T00:05:30Z: is not aligned to 1m (timestamps must be multiples of 60000 ms)",
        ),
        (bad(valid(), "ts", LATE, START), "candle 2024-01-01T00:00:00Z: is not later than the candle before it"),
        (bad(valid(), "close", LATE, np.nan), f"candle {LATE_ISO}: close is not a finite number"),
        (bad(valid(), "volume", LATE, np.inf), f"candle {LATE_ISO}: volume is not a finite number"),
        (
            bad(bad(bad(valid(), "low", LATE, -1.0), "open", LATE, -0.5), "close", LATE, -0.5),
            f"candle {LATE_ISO}: open -0.5 is not positive",
        ),
        (bad(valid(), "volume", LATE, -2.0), f"candle {LATE_ISO}: volume -2.0 is negative"),
        (bad(valid(), "high", LATE, 1.0), f"candle {LATE_ISO}: high 1.0 is below max(open, close)"),
        (bad(valid(), "low", LATE, 1e9), f"candle {LATE_ISO}: low 1000000000.0 is above min(open, close)"),
    ],
)
def test_invalid_candles_are_rejected_naming_the_first_bad_one_and_nothing_is_written(store, db, broken, message):
    with pytest.raises(CandleDataError) as raised:
        store.upsert("BTCUSDT", "1m", broken)

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert db[HISTORICAL_CANDLES].count_documents({}) == 0


def test_the_earliest_bad_candle_is_named_whatever_rule_it_breaks(store):
    broken = bad(bad(valid(), "volume", 10, -1.0), "close", 20, np.nan)
    with pytest.raises(CandleDataError, match=r"^candle 2024-01-01T00:10:00Z: volume -1\.0 is negative$"):
        validate_candles("1m", broken)


def test_symbols_are_upper_cased_and_must_be_short_and_plain(store):
    store.upsert(" btc-usd.p ", "1m", generate_candles(5, start_ms=START))
    assert [r.symbol for r in store.ranges()] == ["BTC-USD.P"]
    for symbol in ("", "BTC/USDT", "A" * 31, "BTC USDT", "$"):
        with pytest.raises(CandleDataError, match="symbol"):
            store.upsert(symbol, "1m", generate_candles(5, start_ms=START))


def test_an_unknown_timeframe_is_rejected(store):
    with pytest.raises(CandleDataError, match="timeframe '2m' is not one of 1m, 5m, 15m, 30m, 1h, 4h, 1d"):
        store.upsert("BTCUSDT", "2m", generate_candles(5, start_ms=START))
    with pytest.raises(CandleDataError):
        store.load("BTCUSDT", "1M")


@pytest.mark.parametrize("timeframe", list(TIMEFRAME_MS))
def test_every_timeframe_round_trips(store, timeframe):
    candles = generate_candles(BUCKET_BARS * 2 + 7, timeframe, start_ms=START)
    store.upsert("BTCUSDT", timeframe, candles)
    assert_same(store.load("BTCUSDT", timeframe), candles)


def test_ranges_list_each_series_with_its_first_and_last_candle_and_count(store):
    store.upsert("ETHUSDT", "1h", generate_candles(2000, "1h", start_ms=START))
    store.upsert("BTCUSDT", "5m", generate_candles(10, "5m", start_ms=START + DAY_MS))
    store.upsert("BTCUSDT", "1m", generate_candles(3000, "1m", start_ms=START))

    assert [(r.symbol, r.timeframe, r.first_ts, r.last_ts, r.count) for r in store.ranges()] == [
        ("BTCUSDT", "1m", START, START + 2999 * 60_000, 3000),
        ("BTCUSDT", "5m", START + DAY_MS, START + DAY_MS + 9 * 300_000, 10),
        ("ETHUSDT", "1h", START, START + 1999 * 3_600_000, 2000),
    ]


def test_ranges_are_read_from_an_index_without_touching_a_bucket(store, db):
    store.upsert("BTCUSDT", "1m", generate_candles(3000, "1m", start_ms=START))
    pipeline = [
        {
            "$group": {
                "_id": {"s": "$symbol", "t": "$timeframe"},
                "n": {"$sum": "$count"},
                "a": {"$min": "$first_ts"},
                "b": {"$max": "$last_ts"},
            }
        }
    ]
    explained = db.command(
        "explain",
        {"aggregate": HISTORICAL_CANDLES, "pipeline": pipeline, "cursor": {}, "hint": "symbol_timeframe_start_extent"},
        verbosity="executionStats",
    )
    assert explained["executionStats"]["totalDocsExamined"] == 0


def test_delete_removes_one_series_and_says_how_many_candles_it_held(store):
    store.upsert("BTCUSDT", "1m", generate_candles(3000, "1m", start_ms=START))
    store.upsert("BTCUSDT", "5m", generate_candles(10, "5m", start_ms=START))

    assert store.delete("btcusdt", "1m") == 3000
    assert store.delete("BTCUSDT", "1m") == 0
    assert [(r.symbol, r.timeframe) for r in store.ranges()] == [("BTCUSDT", "5m")]


def test_pages_of_a_range_concatenate_to_the_range(store):
    candles = generate_candles(5 * BUCKET_BARS, "1m", start_ms=START)
    gappy = Candles(*(np.delete(getattr(candles, n), np.s_[2000:2500]) for n in COLUMNS))
    store.upsert("BTCUSDT", "1m", gappy)
    start, end = START + 1000 * 60_000 + 1, START + 6000 * 60_000  # both inside buckets
    expected = gappy.between(start, end)

    pages = []
    offset = 0
    while True:
        page, total = store.page("BTCUSDT", "1m", start, end, offset, 997)
        assert total == len(expected)
        if not len(page):
            break
        pages.append(page)
        offset += 997
    joined = Candles(*(np.concatenate([getattr(p, n) for p in pages]) for n in COLUMNS))

    assert_same(joined, expected)
    assert [len(p) for p in pages[:-1]] == [997] * (len(pages) - 1)
    assert store.page("BTCUSDT", "1m", None, None, 0, 10)[1] == len(gappy)
    assert store.page("NOPE", "1m", None, None, 0, 10)[1] == 0


def test_progress_is_reported_for_every_bucket(store):
    candles = generate_candles(100 * BUCKET_BARS // 2, "1m", start_ms=START + 3600_000)  # 51 buckets
    reported = []

    store.upsert("BTCUSDT", "1m", candles, progress=reported.append)

    assert sum(reported) == bucket_count("1m", candles.ts) == 51
    assert len(reported) > 1


@pytest.mark.timeout(60)
def test_a_million_candles_import_in_seconds_and_load_in_well_under_a_second(store):
    candles = generate_candles(1_000_000, "1m", start_ms=START)
    started = time.perf_counter()
    store.upsert("BTCUSDT", "1m", candles)
    imported = time.perf_counter() - started

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        loaded = store.load("BTCUSDT", "1m")
        timings.append(time.perf_counter() - started)

    assert_same(loaded, candles)
    assert imported < 10
    assert min(timings) < 0.5
