"""Ticks that cannot be right never reach a candle, and a batch delivered twice counts once.

A tick stamped in the future, or priced far off its symbol's last price, is quarantined: counted,
reported as a ``quarantine`` event and a log line, and left out; the symbol keeps trading on the
real ticks around it. A batch carries an id, and ingest applies an id once, whichever worker gets it.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from strategies.domain import Tick
from tasks.routing import split_batch
from tests.workers.conftest import SYMBOL, create_strategy, send_ingest, spec_doc, wait_for
from tests.workers.replay import run_candles
from tickflow.storage import keys
from tickflow.synthetic import generate_candles
from workers.ticks import BadBatch, batch_marker, decode_batch, encode_batch

MINUTE = 60_000


def now_minute() -> int:
    return int(time.time() * 1000) // MINUTE * MINUTE - 10 * MINUTE


def batch(*ticks: tuple[int, float], qty: float = 1.0, batch_id: str | None = None) -> dict:
    return encode_batch([Tick(SYMBOL, t, price, qty) for t, price in ticks], batch_id)


def forming(redis) -> dict[str, str]:
    return redis.hgetall(keys.current_candle(SYMBOL, "1m"))


def quarantine_events(redis) -> list[dict]:
    return [json.loads(f["data"]) for _, f in redis.xrange(keys.live_events()) if f["type"] == "quarantine"]


def test_a_tick_from_the_future_is_quarantined_and_the_symbol_keeps_trading(engine, redis, caplog):
    t0 = now_minute()
    engine.ingest(batch((t0, 100.0), (t0 + 1_000, 101.0)))
    a_day_ahead = int(time.time() * 1000) + 86_400_000
    engine.ingest(batch((t0 + 2_000, 100.5), (a_day_ahead, 100.7)))

    assert forming(redis)["t"] == str(t0) and forming(redis)["n"] == "3"  # no close, nothing counted late
    assert redis.hget(keys.quarantined_ticks(), SYMBOL) == "1" and redis.hget(keys.late_ticks(), SYMBOL) is None
    [event] = quarantine_events(redis)
    assert event["reason"] == "future" and event["ts"] == a_day_ahead and event["count"] == 1
    assert "quarantined 1 future tick(s) of BTCUSDT" in caplog.text

    engine.ingest(batch((t0 + MINUTE, 100.2)))  # the next real candle closes this one, as always
    assert redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1) == [f"{t0},100.0,101.0,100.0,100.5,3"]


def test_a_tick_far_off_the_last_price_is_quarantined_until_the_last_price_is_a_minute_old(engine, redis):
    t0 = now_minute()
    engine.ingest(batch((t0, 100.0)))
    engine.ingest(batch((t0 + 1_000, 79.0), (t0 + 2_000, 121.0), (t0 + 3_000, 119.0)))
    assert forming(redis)["l"] == "100.0" and forming(redis)["h"] == "119.0"
    [event] = quarantine_events(redis)
    assert (event["reason"], event["count"], event["price"], event["reference"]) == ("price_band", 2, 79.0, 100.0)

    later = t0 + 3_000 + 61_000  # the last applied price (119 at t0 + 3 s) is over a minute old: a new level
    engine.ingest(batch((later, 60.0)))
    assert redis.hget(keys.last_tick(SYMBOL), "p") == "60.0"


def test_a_batch_delivered_twice_adds_its_volume_once(engine, redis, caplog):
    t0 = now_minute()
    payload = batch((t0, 100.0), (t0 + 1_000, 100.5), qty=500.0, batch_id="feed-1-7")
    engine.ingest(payload)
    with caplog.at_level(logging.INFO, logger="workers.ingest"):  # an info line: not kept at the default level
        jobs, holders = engine.ingest(payload)
    assert (jobs, holders) == ([], {})
    assert forming(redis)["v"] == "1000" and forming(redis)["n"] == "2"
    assert "batch feed-1-7 was applied before; skipped" in caplog.text

    engine.ingest(batch((t0 + 2_000, 100.2), qty=500.0, batch_id="feed-1-8"))
    assert forming(redis)["v"] == "1500"


def test_a_batch_redelivered_to_the_workers_counts_once(live_worker, redis, db):
    create_strategy(db, redis, spec_doc("sma_cross"))  # a subscriber: the close runs a chain too
    t0 = now_minute()
    payload = batch((t0, 100.0), qty=1_000.0, batch_id="redelivered-1")
    send_ingest(payload)
    send_ingest(payload)
    send_ingest(batch((t0 + MINUTE, 100.1), batch_id="redelivered-2"))
    wait_for(lambda: redis.llen(keys.closed_candles(SYMBOL, "1m")), 20, "the candle to close")
    assert redis.lrange(keys.closed_candles(SYMBOL, "1m"), 0, -1) == [f"{t0},100.0,100.0,100.0,100.0,1000"]


def test_batch_ids_are_checked_and_each_shard_of_a_split_batch_gets_its_own():
    """``{source}-{number}``, ``.{shard}`` for a split batch's parts: each marked by its own bit."""
    with pytest.raises(BadBatch, match="bad batch id"):
        decode_batch({"id": "x" * 65, "s": [], "t": [], "p": [], "q": []})
    with pytest.raises(BadBatch, match="bad batch id"):
        decode_batch({"id": 7, "s": [], "t": [], "p": [], "q": []})
    with pytest.raises(BadBatch, match=r"bad batch id 'feed-x': '\{source\}-\{number\}'"):
        decode_batch({"id": "feed-x", "s": [], "t": [], "p": [], "q": []})
    assert decode_batch(batch((1, 1.0), batch_id="a.b:c-1")).batch_id == "a.b:c-1"

    payload = encode_batch([Tick(f"S{i}USDT", 1, 1.0, 1.0) for i in range(20)], "b-9")
    parts = split_batch(payload, 4)
    assert len(parts) > 1 and sorted(part["id"] for part in parts.values()) == [f"b-9.{s}" for s in sorted(parts)]
    markers = {batch_marker(part["id"]) for part in parts.values()} | {batch_marker("b-9"), batch_marker("b-65545")}
    assert len(markers) == len(parts) + 2 and batch_marker("b-65545") == (keys.ingested_batches("b", 1), 9)


def test_live_trading_on_ordinary_ticks_quarantines_nothing(engine, db, redis):
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, generate_candles(300, "1m", seed=5), 0, 300)
    assert redis.hlen(keys.quarantined_ticks()) == 0 and db.trade_logs.count_documents({}) > 0


def test_ticks_from_long_before_the_last_price_are_not_judged_by_it(engine, redis):
    t0 = now_minute()
    engine.ingest(batch((t0, 100.0)))
    engine.ingest(batch((t0 - 86_400_000, 50.0)))  # a day earlier (replayed history): late, not quarantined
    assert redis.hlen(keys.quarantined_ticks()) == 0 and redis.hget(keys.late_ticks(), SYMBOL) == "1"
