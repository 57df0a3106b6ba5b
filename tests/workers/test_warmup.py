"""A strategy started live is warmed from stored history, so it decides at the very next close.

Its working sets (the Redis lists of closed candles) are filled from ``historical_candles``
with the most recent stored candles older than anything the feed has closed or is forming:
in time order, each candle once, the feed's own candles kept as they are, written exactly
as ingest writes them, and never interleaved wrongly with a close ingest pushes meanwhile.
A symbol the feed has not ticked on yet waits for its first tick (a replay may be about to
send candles older than the newest stored ones); the ingest task then warms it before the
next batch. The same happens when recovery rebuilds live state after Redis was emptied.
Warm-up is best effort: history that cannot be read leaves the strategy started, cold, with
a warning. The demo's strategies warm as soon as the simulated feed ticks, and the feed
continues from the stored prices.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable

import numpy as np
import pytest
from bson import ObjectId
from pymongo import MongoClient

from cli.demo import SYMBOLS, seed_demo
from cli.feed import _last_closes
from cli.localservices import free_port
from strategies.candles import TIMEFRAME_MS, Candles
from strategies.domain import Tick
from strategies.indicators import compute_indicators
from strategies.signals import compute_signals
from strategies.spec import validate_spec
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc
from tests.workers.feeds.conftest import take
from tests.workers.replay import run_candles
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.candle_rows import format_rows
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles
from workers import warmup
from workers.engine import LiveEngine
from workers.feeds import SimulatedFeed
from workers.recovery import ensure_live_state
from workers.runner import working_set
from workers.ticks import encode_batch

LIST = keys.closed_candles(SYMBOL, TIMEFRAME)
MINUTE = TIMEFRAME_MS[TIMEFRAME]
LATEST = 2**62
"""``working_set``'s upper bound that keeps every candle."""


def first(candles: Candles, n: int) -> Candles:
    return candles.between(None, int(candles.ts[n]))


def stored(db, candles: Candles, timeframe: str = TIMEFRAME) -> CandleStore:
    store = CandleStore(db)
    store.upsert(SYMBOL, timeframe, candles)
    return store


def rows(redis) -> list[str]:
    return redis.lrange(LIST, 0, -1)


def list_times(redis, key: str = LIST) -> list[int]:
    return [int(row.split(",", 1)[0]) for row in redis.lrange(key, 0, -1)]


def assert_same_candles(got: Candles, expected: Candles) -> None:
    """Bit for bit: times and every price and volume."""
    for name in ("ts", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def start(engine: LiveEngine, db, redis, example: str, **changes) -> str:
    strategy_id = create_strategy(db, redis, spec_doc(example, **changes))
    engine.start(strategy_id, "paper", 10_000)
    return strategy_id


def feed_tick(engine: LiveEngine, ts: int, price: float = 100.0, qty: float = 1.0) -> None:
    engine.ingest(encode_batch([Tick(SYMBOL, ts, price, qty)]))


def run_as_the_ingest_task(engine: LiveEngine, candles: Candles, begin: int, end: int) -> None:
    """``run_candles``, each batch preceded by ``ensure_live_state`` as the ingest task does."""
    for i in range(begin, end):
        ensure_live_state(engine)
        run_candles(engine, candles, i, i + 1)


def epoch_waits(redis) -> bool:
    return warmup.is_waiting(redis.get(keys.live_epoch()) or "")


def in_threads(*work: Callable[[], object]) -> None:
    """Run every callable at once, each in its own thread; fail with the first error any raised."""
    errors: list[BaseException] = []

    def run(one: Callable[[], object]) -> None:
        try:
            one()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(one,)) for one in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# -- filling ---------------------------------------------------------------------------------------


def test_a_strategy_started_with_stored_history_holds_the_bars_it_needs_equal_to_the_stored_candles(engine, db, redis):
    candles = generate_candles(2_501, TIMEFRAME, seed=1)
    stored(db, first(candles, 2_500))
    run_candles(engine, candles, 2_500, 2_501)  # the feed is running: candle 2500 is forming
    strategy_id = start(engine, db, redis, "macd_trend_atr_stop")  # EMA(200): 2,000 bars wanted
    assert engine.active.get(strategy_id).bars == 2_000
    assert_same_candles(
        working_set(redis, SYMBOL, TIMEFRAME, LATEST), candles.between(int(candles.ts[500]), int(candles.ts[2_500]))
    )


def test_rows_are_written_exactly_as_ingest_writes_them(engine, redis):
    price, qty = 61_234.57, 0.1  # 0.1 has no short %.17g form: the volume's format shows
    feed_tick(engine, 0, price, qty)
    feed_tick(engine, MINUTE, price)  # closes the first candle
    one = Candles.from_columns(
        {"ts": [0], "open": [price], "high": [price], "low": [price], "close": [price], "volume": [qty]}
    )
    assert rows(redis) == format_rows(one) == [f"0,{price!r},{price!r},{price!r},{price!r},0.10000000000000001"]


def test_a_strategy_without_stored_history_changes_nothing(engine, db, redis):
    candles = generate_candles(30, TIMEFRAME, seed=2)
    run_candles(engine, candles, 0, 30)  # the feed closed 29 candles
    before = rows(redis)
    start(engine, db, redis, "sma_cross")
    assert rows(redis) == before and len(before) == 29


def test_a_full_working_set_is_left_as_it_is(engine, db, redis):
    candles = generate_candles(1_200, TIMEFRAME, seed=3)
    stored(db, first(candles, 600))
    run_candles(engine, candles, 600, 1_200)  # the feed alone filled the set
    before = rows(redis)
    start(engine, db, redis, "sma_cross")
    assert rows(redis) == before and len(before) == 500


def test_history_goes_before_the_candles_the_feed_already_closed_and_never_overlaps_them(engine, db, redis):
    candles = generate_candles(800, TIMEFRAME, seed=4)
    # Stored history that also covers what the feed closed, with other prices: the feed's candles win.
    moved = Candles(
        candles.ts, candles.open * 1.01, candles.high * 1.01, candles.low * 1.01, candles.close * 1.01, candles.volume
    )
    store = stored(db, moved)
    run_candles(engine, candles, 700, 761)  # the feed closed 700..759, 760 is forming
    live = rows(redis)
    start(engine, db, redis, "sma_cross")
    after = rows(redis)
    assert len(after) == 500 and after[-60:] == live
    assert list_times(redis) == list(range(int(candles.ts[260]), int(candles.ts[760]), MINUTE))
    assert_same_candles(
        working_set(redis, SYMBOL, TIMEFRAME, int(candles.ts[699])),
        store.load(SYMBOL, TIMEFRAME, int(candles.ts[260]), int(candles.ts[700])),
    )


def test_a_symbol_the_feed_has_not_ticked_on_waits_for_its_first_tick_then_gets_the_history_before_it(
    engine, db, redis
):
    """As when the demo starts its strategies before the feed, or a replay of stored candles follows a start."""
    candles = generate_candles(700, TIMEFRAME, seed=5)
    store = stored(db, candles)  # stored history reaches past where the feed will start
    start(engine, db, redis, "sma_cross")
    assert not redis.exists(LIST)

    run_as_the_ingest_task(engine, candles, 600, 602)  # the second batch closes candle 600
    assert list_times(redis) == list(range(int(candles.ts[101]), int(candles.ts[601]), MINUTE))
    assert_same_candles(
        working_set(redis, SYMBOL, TIMEFRAME, int(candles.ts[599])),
        store.load(SYMBOL, TIMEFRAME, int(candles.ts[101]), int(candles.ts[600])),
    )
    assert not epoch_waits(redis)


def test_a_gap_between_history_and_the_live_candles_is_bridged_with_a_warning(engine, db, redis, caplog):
    candles = generate_candles(700, TIMEFRAME, seed=6)
    stored(db, first(candles, 600))
    run_candles(engine, candles, 650, 652)  # the feed closed 650; 651 is forming
    with caplog.at_level(logging.WARNING, logger="workers.warmup"):
        strategy_id = start(engine, db, redis, "sma_cross")
    times = list_times(redis)
    assert len(times) == 500 and times[-1] == int(candles.ts[650]) and times[-2] == int(candles.ts[599])
    [warning] = [record for record in caplog.records if record.name == "workers.warmup"]
    assert "ends 50 candle(s) before the live working set" in warning.getMessage()
    assert (warning.symbol, warning.timeframe, warning.strategy_id) == (SYMBOL, TIMEFRAME, strategy_id)


# -- racing ingest ---------------------------------------------------------------------------------


def other_warm_up_first(engine, store, candles) -> None:
    """A second strategy on the same symbol started at the same moment and warmed first."""
    warmup.warm_up(engine.redis, store, [SYMBOL], TIMEFRAME, 200)


def ingest_trimmed_the_head(engine, store, candles) -> None:
    """The feed closed so many candles that ingest trimmed the oldest ones off."""
    run_candles(engine, candles, 811, 1_003)


@pytest.mark.parametrize("move", [other_warm_up_first, ingest_trimmed_the_head])
def test_rows_planned_before_the_list_moved_are_refused_and_a_new_plan_fits(move: Callable, db, redis):
    engine = LiveEngine(redis, db, LiveSettings(min_bars=200))  # ingest keeps 200 closes of 1m
    candles = generate_candles(1_100, TIMEFRAME, seed=7)
    store = stored(db, first(candles, 800))
    run_candles(engine, candles, 800, 811)  # the feed closed 800..809
    plan = warmup.plan(store, warmup.snapshot(redis, SYMBOL, TIMEFRAME, 200))
    assert plan is not None

    move(engine, store, candles)
    assert not warmup.prepend(redis, plan)

    warmup.warm_up(redis, store, [SYMBOL], TIMEFRAME, 200)
    times = list_times(redis)
    assert times == list(range(times[0], times[0] + MINUTE * 200, MINUTE))  # 200, in order, each once, no hole


def test_a_late_tick_opening_an_older_candle_than_planned_makes_the_warm_up_start_over(engine, db, redis):
    """On a timeframe ingest did not keep yet, history goes before the last tick's candle; a tick of an
    earlier candle from a batch applied late then opens the forming candle the rows must stay before."""
    five = generate_candles(300, "5m", seed=11)
    store = stored(db, five, "5m")
    t = int(five.ts[200])
    feed_tick(engine, t + 90_000)  # 1m only so far: no 5m candle forms
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", timeframe="5m"))
    entry = engine.active.entry_for(engine.catalog.get(strategy_id), "paper", 10_000, 0)
    engine.active.register(strategy_id, entry)  # ingest keeps 5m from now on
    plan = warmup.plan(store, warmup.snapshot(redis, SYMBOL, "5m", entry.bars))
    assert plan.seen.before == t and plan.newest == int(five.ts[199])

    feed_tick(engine, t - 1_000)  # late for 1m, but it opens the 5m candle before t
    assert not warmup.prepend(redis, plan)
    warmup.warm_up(redis, store, [SYMBOL], "5m", entry.bars)
    assert list_times(redis, keys.closed_candles(SYMBOL, "5m")) == five.ts[:199].tolist()


def test_concurrent_ingest_and_warm_ups_never_duplicate_or_reorder_candles(db, redis):
    engine = LiveEngine(redis, db, LiveSettings(min_bars=30))  # ingest trims at 30: the head moves
    candles = generate_candles(1_100, TIMEFRAME, seed=8)
    history = first(candles, 1_000)
    store = stored(db, history)
    stored_rows = dict(zip(history.ts.tolist(), format_rows(history)))

    def warm() -> None:
        warmup.warm_up(redis, store, [SYMBOL], TIMEFRAME, 30)

    for _ in range(8):
        redis.flushdb()
        run_candles(engine, candles, 1_000, 1_001)  # the feed is running
        in_threads(lambda: run_candles(engine, candles, 1_001, 1_021), warm, warm)  # it closes 1000..1019
        times = list_times(redis)
        assert times == list(range(int(candles.ts[990]), int(candles.ts[1_020]), MINUTE))  # last 30, once each
        for row, t in zip(rows(redis), times):
            assert t not in stored_rows or row == stored_rows[t]


# -- deciding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("example, history, seed", [("sma_cross", 600, 4), ("macd_trend_atr_stop", 2_400, 2)])
def test_the_closes_right_after_start_decide_as_a_backtest_on_the_same_history(
    engine, db, redis, example, history, seed
):
    candles = generate_candles(history + 80, TIMEFRAME, seed=seed)
    stored(db, first(candles, history))
    run_candles(engine, candles, history, history + 1)  # the feed is running: candle `history` is forming
    strategy_id = start(engine, db, redis, example)
    run_candles(engine, candles, history + 1, len(candles))

    spec = validate_spec(spec_doc(example))
    expected = compute_signals(spec, {**candles.ohlcv(), **compute_indicators(spec, candles.ohlcv())})
    fired = []
    for i in range(history, len(candles) - 1):
        signal = json.loads(redis.get(keys.signal(strategy_id, SYMBOL, int(candles.ts[i]))))
        assert {rule: signal[rule] for rule in expected} == {rule: bool(v[i]) for rule, v in expected.items()}, i
        fired += [i - history for rule in expected if signal[rule]]
    assert fired and fired[0] == 0  # the very first close after start already trades


# -- recovery and outages --------------------------------------------------------------------------


def test_recovery_after_flushall_warms_the_sets_again_at_the_feeds_next_tick(engine, db, redis):
    candles = generate_candles(820, TIMEFRAME, seed=9)
    store = stored(db, first(candles, 800))
    start(engine, db, redis, "sma_cross")
    run_as_the_ingest_task(engine, candles, 800, 811)  # closes 800..809, lost with Redis below
    redis.flushall()

    run_as_the_ingest_task(engine, candles, 811, 813)  # rebuilt before 811, warmed before 812 closes it
    times = list_times(redis)
    assert len(times) == 500 and times[-2:] == [int(candles.ts[799]), int(candles.ts[811])]
    assert_same_candles(
        working_set(redis, SYMBOL, TIMEFRAME, int(candles.ts[799])), store.load(SYMBOL, TIMEFRAME, int(candles.ts[301]))
    )
    assert not epoch_waits(redis)


def test_a_symbol_that_never_ticks_stops_the_wait_after_its_deadline(engine, db, redis):
    start(engine, db, redis, "sma_cross")
    assert ensure_live_state(engine) is True and epoch_waits(redis)
    assert ensure_live_state(engine) is False and epoch_waits(redis)
    redis.set(keys.live_epoch(), warmup.waiting_mark(now_ms=0))  # its deadline passed long ago
    ensure_live_state(engine)
    assert redis.exists(keys.live_epoch()) and not epoch_waits(redis)


def test_with_history_unreadable_a_strategy_still_starts_cold_with_a_warning(engine, db, redis, caplog):
    candles = generate_candles(701, TIMEFRAME, seed=10)
    stored(db, first(candles, 700))
    run_candles(engine, candles, 700, 701)
    with MongoClient(f"mongodb://127.0.0.1:{free_port()}/down", serverSelectionTimeoutMS=300) as unreachable:
        engine.active.history = CandleStore(unreachable.get_default_database())  # gone after the start record
        with caplog.at_level(logging.WARNING, logger="workers.warmup"):
            strategy_id = start(engine, db, redis, "sma_cross")
    assert engine.active.get(strategy_id) is not None
    assert db.strategies.find_one({"_id": ObjectId(strategy_id)})["live"]["active"]
    assert not redis.exists(LIST)
    assert "warm-up skipped: historical candles unreadable" in caplog.text


# -- the demo --------------------------------------------------------------------------------------


def test_the_demo_strategies_warm_at_the_simulated_feeds_first_ticks_which_continue_the_stored_prices(db, redis):
    report = seed_demo(db, redis)  # strategies start before the feed runs, as under `make run`
    closes = _last_closes(list(SYMBOLS))
    store = CandleStore(db)
    assert closes == {symbol: float(store.load(symbol, "1m").close[-1]) for symbol in SYMBOLS}

    ticks = asyncio.run(take(SimulatedFeed(list(SYMBOLS), rate=None, start_prices=closes), 600))
    for symbol, close in closes.items():
        assert next(tick.price for tick in ticks if tick.symbol == symbol) == pytest.approx(close, rel=0.01)
    engine = LiveEngine(redis, db, LiveSettings())
    for batch in (ticks[:300], ticks[300:]):  # as the ingest task takes them
        ensure_live_state(engine)
        engine.ingest(encode_batch(batch))
    ensure_live_state(engine)

    for strategy_id in report.done["paper"]:
        entry = engine.active.get(strategy_id)
        for symbol in entry.symbols:
            history = store.load(symbol, entry.timeframe)
            warm = working_set(redis, symbol, entry.timeframe, int(history.ts[-1]))
            assert len(warm) >= entry.bars - 1  # a minute may have closed meanwhile
            assert_same_candles(warm, history.between(int(warm.ts[0])))
