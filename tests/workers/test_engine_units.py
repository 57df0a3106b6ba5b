"""The engine's parts against a real Redis (and MongoDB where they use it), without Celery."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from strategies import position as machine
from strategies.backtest import run_backtest
from strategies.domain import OrderSide, Tick
from strategies.spec import validate_spec
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc
from tests.workers.replay import candle_ticks, run_candles
from tickflow.storage import keys
from tickflow.synthetic import generate_candles
from workers.broker import PaperBroker
from workers.engine import CloseJob, Leg
from workers.maintenance import reconcile_positions
from workers.orders import OrderClaims, OrderRequest, client_order_id
from workers.recovery import ensure_live_state
from workers.ticks import BadBatch, decode_batch, encode_batch

T0 = 1_704_067_200_000
MINUTE = 60_000


def ticks(*rows: tuple[int, float]) -> dict:
    return encode_batch([Tick(SYMBOL, ts, price, 1.0) for ts, price in rows])


def candle(redis) -> dict[str, str]:
    return redis.hgetall(keys.current_candle(SYMBOL, "1m"))


def test_batches_round_trip_and_bad_ones_are_refused():
    batch = decode_batch(ticks((T0, 1.5), (T0 + 1, 2.5)))
    assert batch.ticks() == [Tick(SYMBOL, T0, 1.5, 1.0), Tick(SYMBOL, T0 + 1, 2.5, 1.0)]
    for bad in (
        {"s": ["btc"], "t": [1], "p": [1.0], "q": [1.0]},
        {"s": ["A"], "t": [1, 2], "p": [1.0], "q": [1.0]},
        {"s": ["A"], "t": [1], "p": [-1.0], "q": [1.0]},
        {"s": ["A"], "t": ["x"], "p": [1.0], "q": [1.0]},
    ):
        with pytest.raises(BadBatch):
            decode_batch(bad)


def test_out_of_order_ticks_make_the_right_candle_and_late_ones_are_counted(engine, redis):
    engine.ingest(ticks((T0 + 30_000, 10.0), (T0 + 10_000, 9.0)))  # close first, then an earlier tick
    engine.ingest(ticks((T0 + 5_000, 8.5), (T0 + 50_000, 11.0), (T0 + 40_000, 11.5)))
    assert {k: candle(redis)[k] for k in "ohlc"} == {"o": "8.5", "h": "11.5", "l": "8.5", "c": "11.0"}
    jobs, _ = engine.ingest(ticks((T0 + MINUTE + 1, 11.0), (T0 + 59_000, 9.5)))  # same batch: not late
    assert jobs == [] and redis.get(keys.candle_processed(SYMBOL, "1m")) == str(T0)
    closed = redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1)
    assert closed == [f"{T0},8.5,11.5,8.5,9.5,6"]
    engine.ingest(ticks((T0 + 58_000, 10.0), (T0 + 2, 10.5)))  # after the close: late
    assert redis.hget(keys.late_ticks(), SYMBOL) == "2"
    assert redis.llen(keys.closed_candles(SYMBOL, "1m")) == 1


def test_a_lost_forming_candle_never_reopens_one_already_closed(engine, redis):
    engine.ingest(ticks((T0, 10.0)))
    engine.ingest(ticks((T0 + MINUTE, 11.0)))  # closes T0
    redis.delete(keys.current_candle(SYMBOL, "1m"))  # the forming candle's hash is lost (evicted, deleted)

    engine.ingest(ticks((T0 + 30_000, 12.0)))  # late for T0: must not start T0 again
    jobs, _ = engine.ingest(ticks((T0 + 2 * MINUTE, 13.0)))

    assert redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1) == [f"{T0},10.0,10.0,10.0,10.0,1"]
    assert jobs == [] and redis.hget(keys.late_ticks(), SYMBOL) == "1"
    assert candle(redis)["t"] == str(T0 + 2 * MINUTE)


def test_concurrent_batches_close_each_candle_exactly_once(engine, redis):
    rng = np.random.default_rng(1)
    minutes = 40
    all_ticks = [
        (T0 + int(m * MINUTE + s), float(100 + rng.normal()))
        for m in range(minutes)
        for s in rng.integers(0, MINUTE, 50)
    ]
    batches = [all_ticks[i : i + 25] for i in range(0, len(all_ticks), 25)]
    errors = []

    def send(part):
        try:
            for rows in part:
                engine.ingest(ticks(*rows))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    closed = [int(row.split(",")[0]) for row in redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1)]
    assert closed == sorted(set(closed))  # each closed once, in order
    late = int(redis.hget(keys.late_ticks(), SYMBOL) or 0)
    volume = sum(float(row.split(",")[5]) for row in redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1))
    assert volume + float(candle(redis)["v"]) + late == len(all_ticks)


def test_an_order_is_claimed_once_and_the_paper_broker_dedupes(redis):
    order = OrderRequest(
        client_order_id("a1" * 12, SYMBOL, T0, "open"), "a1" * 12, SYMBOL, OrderSide.BUY, 2.0, 10.0, 0.02, T0, "entry"
    )
    claims = OrderClaims(redis)
    assert claims.claim(order, 60) is True
    assert claims.claim(order, 60) is False
    broker = PaperBroker(redis)
    first = broker.submit(order)
    again = broker.submit(OrderRequest(**{**order.__dict__, "price": 99.0}))
    assert first == again and first.average_price == 10.0
    assert redis.hlen(keys.paper_fills()) == 1


def test_stale_closes_are_dropped_not_traded(engine, db, redis, caplog):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(60, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, 30)
    close, next_open = int(candles.ts[29]), int(candles.ts[30])
    for i in (30, 31, 32):  # the market moves on two candles before the close of 29 is evaluated
        engine.ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, i)))
    job = CloseJob(TIMEFRAME, close, 0, [Leg(SYMBOL, next_open, [strategy_id])])
    engine.evaluate(job, engine.indicators(job))
    engine.execute(job)
    assert "dropped stale close" in caplog.text
    stale = next(record for record in caplog.records if "dropped stale close" in record.getMessage())
    assert (stale.symbol, stale.timeframe, stale.close) == (SYMBOL, TIMEFRAME, close)  # log fields (tickflow.logs)
    assert not redis.exists(keys.signal(strategy_id, SYMBOL, close))
    position = engine.book.load(strategy_id, SYMBOL, 10_000)
    assert position.evaluated == position.executed == close


def test_an_order_whose_signal_is_gone_is_cancelled_rather_than_blocking_later_closes(engine, db, redis, caplog):
    doc = {
        "name": "flip on colour",
        "symbols": [SYMBOL],
        "timeframe": TIMEFRAME,
        "params": {},
        "indicators": {},
        "allow_reversal": True,
        "rules": {"enter_long": "close > open", "enter_short": "close < open"},
    }
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(30, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, 1)
    (job,), _ = engine.ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, 1)))
    engine.decide(job)  # the first close always decides an entry (a candle is up or down)
    signal = keys.signal(strategy_id, SYMBOL, job.close)
    assert json.loads(redis.get(signal))["pending"]

    redis.delete(signal)  # expired or evicted before execute ran (a long outage, say)
    engine.execute(job)

    position = engine.book.load(strategy_id, SYMBOL, 10_000)
    assert position.executed == job.close and position.side == 0 and position.state[machine.ORDER] == machine.NO_ORDER
    assert "its order is cancelled" in caplog.text
    run_candles(engine, candles, 2, len(candles))  # later closes are neither blocked nor lost
    assert engine.book.load(strategy_id, SYMBOL, 10_000).executed == int(candles.ts[-2])
    assert db.trade_logs.count_documents({"strategy_id": strategy_id}) > 0


def test_live_state_is_rebuilt_after_flushall(engine, db, redis):
    doc = spec_doc("rsi_mean_reversion", params={"stop": 0.01})
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 10_000)
    candles = generate_candles(2_000, TIMEFRAME, seed=11)
    run_candles(engine, candles, 0, len(candles))
    open_trade = db.trade_logs.find_one({"status": "open"})
    assert open_trade is not None, "pick a seed that leaves a position open"
    before = engine.book.load(strategy_id, SYMBOL, 10_000).state

    redis.flushall()
    assert ensure_live_state(engine) is True
    assert ensure_live_state(engine) is False
    assert json.loads(redis.hget(keys.live_active(), strategy_id))["symbols"] == [SYMBOL]
    assert redis.sismember(keys.live_subscribers(SYMBOL, TIMEFRAME), strategy_id)
    after = engine.book.load(strategy_id, SYMBOL, 10_000).state
    kept = [
        machine.SIDE,
        machine.SIZE,
        machine.ENTRY_PRICE,
        machine.ENTRY_BAR,
        machine.ENTRY_COMMISSION,
        machine.STOP,
        machine.TARGET,
        machine.BALANCE,
    ]  # a trailing anchor restarts from the entry
    np.testing.assert_allclose(after[kept], before[kept], rtol=1e-9)
    assert redis.sismember(keys.stop_holders(), f"{SYMBOL} {strategy_id}")
    # The paper exchange's book went with Redis; it takes back the reopened position, so nothing differs.
    assert reconcile_positions(engine, confirm_s=0).differences == []


def test_a_rebuild_after_flushall_counts_only_the_trades_of_the_current_run(engine, db, redis):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(300, TIMEFRAME, seed=5), 0, 300)
    engine.stop(strategy_id, close_positions=True)
    assert db.trade_logs.count_documents({"strategy_id": strategy_id, "status": "closed"}) > 0
    engine.start(strategy_id, "paper", 50_000)

    redis.flushall()
    assert ensure_live_state(engine) is True
    assert redis.exists(keys.position(strategy_id, SYMBOL))  # rebuilt, not a new account
    assert engine.book.load(strategy_id, SYMBOL, 0).state[machine.BALANCE] == 50_000


def test_an_entry_the_sizing_cannot_place_is_a_skipped_event_and_a_log_line_saying_why(engine, db, redis, caplog):
    doc = spec_doc("sma_cross", name="too little cash")
    strategy_id = create_strategy(db, redis, doc)
    engine.start(strategy_id, "paper", 50)  # half a unit at 100: nothing in whole units
    candles = generate_candles(300, TIMEFRAME, seed=5)
    run_candles(engine, candles, 0, len(candles))

    events = [
        json.loads(fields["data"]) for _, fields in redis.xrange(keys.live_events()) if fields["type"] == "skipped"
    ]
    expected = run_backtest(validate_spec(doc), candles, 50).skipped
    assert len(events) == expected.total > 0
    assert events[: len(expected.first)] == [
        {"strategy_id": strategy_id, "symbol": SYMBOL, "timeframe": TIMEFRAME, **entry.to_dict(), "bar": entry.ts}
        for entry in expected.first
    ]  # the live bar number is the candle's open time
    assert {event["reason"] for event in events} == {"size_below_step"}
    assert db.trade_logs.count_documents({"strategy_id": strategy_id}) == 0
    line = next(record for record in caplog.records if "entry skipped" in record.getMessage())
    assert "long entry skipped, size below the quantity step: at" in line.getMessage()
    assert (line.strategy_id, line.symbol, line.timeframe) == (strategy_id, SYMBOL, TIMEFRAME)


def test_a_position_stored_before_the_machine_had_its_skipped_slot_still_loads(engine, redis):
    stored = machine.new_state(10_000)[: machine.SKIPPED].tolist()
    fields = {"state": json.dumps(stored), "cursor": "0-0", "bar": "-1", "evaluated": "-1", "executed": "-1"}
    redis.hset(keys.position("old", SYMBOL), mapping={**fields, "version": 3})

    position = engine.book.load("old", SYMBOL, 10_000)

    assert len(position.state) == machine.STATE_SLOTS and position.state[machine.SKIPPED] == 0
    np.testing.assert_array_equal(position.state[: machine.SKIPPED], stored)
