"""``cli.demo``: what a first ``tickflow run`` seeds, and that a second one seeds nothing."""

import numpy as np

from cli.demo import (
    CASH,
    DEMO_STRATEGIES,
    MARKER,
    SYMBOLS,
    aggregate,
    seed_demo,
    year_window,
)
from strategies.backtest import run_backtest
from strategies.examples import EXAMPLES
from strategies.spec import validate_spec
from tickflow.settings import live_settings
from tickflow.storage.backtest_results import BacktestRepository, SweepRepository
from tickflow.storage.candles import CandleStore
from tickflow.storage.connections import redis_client
from tickflow.storage.tokens import TokenRepository
from tickflow.synthetic import generate_candles
from workers.engine import LiveEngine

NOW = 1_767_225_600_000 + 12 * 3_600_000  # 2026-01-01 12:00 UTC


def test_aggregate_makes_ohlcv_of_consecutive_bars():
    bars = generate_candles(240, "1m", start_ms=NOW - NOW % 14_400_000, seed=3)
    hours = aggregate(bars, 60)
    assert len(hours) == 4
    assert list(hours.ts) == list(bars.ts[::60])
    assert hours.open[1] == bars.open[60] and hours.close[1] == bars.close[119]
    assert hours.high[2] == bars.high[120:180].max() and hours.low[2] == bars.low[120:180].min()
    assert np.isclose(hours.volume[3], bars.volume[180:].sum())


def test_first_seed_puts_the_demo_in_place_and_a_second_seeds_nothing(db, redis):
    lines = []
    report = seed_demo(db, redis, lines.append, now_ms=NOW)
    assert report.seeded and report.token.startswith("tf_")
    assert TokenRepository(db, redis_client()).verify(report.token).name == "demo"

    start, end = year_window(NOW)
    assert end - start == 365 * 86_400_000 and end <= NOW
    store = CandleStore(db)
    for symbol in SYMBOLS:
        one_minute = store.load(symbol, "1m")
        assert len(one_minute) == 525_600 and one_minute.ts[0] == start and one_minute.ts[-1] == end - 60_000
        assert len(store.load(symbol, "1h")) == 8_760 and len(store.load(symbol, "4h")) == 2_190

    names = {doc["name"] for doc in db.strategies.find()}
    assert len(names) == len(EXAMPLES) + len(DEMO_STRATEGIES)
    active = LiveEngine(redis, db, live_settings()).active.all()
    assert sorted(active) == sorted(report.done["paper"])
    assert {e.timeframe for e in active.values()} == {"1m"}
    assert set().union(*(e.symbols for e in active.values())) == set(SYMBOLS)

    backtest = BacktestRepository(db).get(report.done["backtest"])
    sweep = SweepRepository(db).get(report.done["sweep"])
    assert backtest["state"] == "queued" and backtest["symbol"] == "BTCUSDT"
    assert sweep["state"] in ("queued", "running")

    again = seed_demo(db, redis, lines.append, now_ms=NOW + 86_400_000)
    assert not again.seeded and again.token is None
    assert db.strategies.count_documents({}) == len(names)
    assert db.backtest_results.count_documents({}) == 1 and db.sweeps.count_documents({}) == 1
    assert len(TokenRepository(db, redis_client()).list()) == 1
    assert CandleStore(db).load("BTCUSDT", "1m").ts[-1] == end - 60_000


def test_an_interrupted_seed_finishes_the_missing_steps_only(db, redis):
    first = seed_demo(db, redis, now_ms=NOW)
    db[MARKER].update_one({"_id": "demo"}, {"$unset": {"complete": "", "sweep": "", "token": ""}})
    TokenRepository(db, redis_client()).revoke("demo")
    second = seed_demo(db, redis, now_ms=NOW)
    assert second.seeded and second.token and second.token != first.token
    assert db.backtest_results.count_documents({}) == 1 and db.sweeps.count_documents({}) == 2
    assert db.strategies.count_documents({}) == len(EXAMPLES) + len(DEMO_STRATEGIES)


def test_the_demos_crypto_strategies_trade_fractions_on_their_symbols_steps_with_ten_thousand(db, redis):
    seed_demo(db, redis, now_ms=NOW)
    store = CandleStore(db)

    assert CASH == 10_000
    for doc in db.strategies.find():
        spec = validate_spec(doc["spec"])
        for symbol in spec.symbols:
            candles = store.load(symbol, spec.timeframe)
            result = run_backtest(spec, candles, CASH, symbol=symbol)
            assert len(result.trades) > 0, (spec.name, symbol, result.no_trades_reason)
            assert "size_below_step" not in result.to_dict()["skipped"]["by_reason"], (spec.name, symbol)
            if symbol == "BTCUSDT":
                assert (result.trades.size < 1).all()
                sizing = {**doc["spec"]["sizing"], "step": 1, "min_qty": 0, "min_notional": 0}
                whole_units = validate_spec({**doc["spec"], "sizing": sizing})
                assert not run_backtest(whole_units, candles, CASH, symbol=symbol).trades, "the demo's point"
