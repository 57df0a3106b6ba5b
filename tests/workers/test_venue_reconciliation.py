"""The order ledger and the reconciliation with the venue (the local Binance-speaking server, in its own process).

Every live order is in MongoDB's ledger with each state it went through and its fills keyed by the venue's
trade ids; a reconciliation pass settles what a killed worker left ``sent``, adopts our orders the ledger
lost, reports foreign orders, and compares the venue's balances with the live positions. Live orders wait
for a pass after a worker starts or a strategy starts live.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from strategies import position as machine
from strategies.domain import OrderSide
from strategies.spec import validate_spec
from tests.exchange.conftest import API_KEY, API_SECRET
from tests.workers.conftest import (
    SYMBOL,
    create_strategy,
    list_venue,
    live_events,
    send_ingest,
    spec_doc,
    wait_for,
)
from tests.workers.replay import backtest_trades, candle_ticks, replay, run_candles
from tickflow.storage import keys
from tickflow.storage.active import OrderUnsettled
from tickflow.synthetic import generate_candles
from workers.broker import venue_broker
from workers.engine import CloseJob, Leg
from workers.orders import OrderRequest, client_order_id
from workers.progress import wait_candle_processed
from workers.ticks import encode_batch
from workers.venue_limits import VenueLimiter, venue_name
from workers.venue_orders import ledger_record

CANDLES = generate_candles(150, "1m", seed=7)
"""sma_cross trades twice over the first 120 and is long from bar 139 on."""
PRICE = round(float(CANDLES.close[-1]), 2)


@pytest.fixture
def trading(engine, db, redis, venue):
    """``sma_cross`` started live on a venue listing BTCUSDT at the replay's last close."""
    list_venue(venue, PRICE)
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "live", 10_000)
    return strategy_id


def ledger(db) -> dict[str, dict]:
    return {doc["_id"]: doc for doc in db.orders.find()}


def order(strategy_id: str, candle_ms: int, side: OrderSide = OrderSide.BUY, size: float = 1.0) -> OrderRequest:
    action = "open" if side is OrderSide.BUY else "signal"
    return OrderRequest(
        client_order_id(strategy_id, SYMBOL, candle_ms, action), strategy_id, SYMBOL, side, size, PRICE, 0.0,
        candle_ms, "entry" if side is OrderSide.BUY else "signal",
    )  # fmt: skip


def test_every_live_order_is_in_the_ledger_with_each_state_and_its_fills_by_the_venues_trade_id(
    engine, db, redis, venue, trading
):
    run_candles(engine, CANDLES, 0, 120)
    on_venue = venue.state()
    assert on_venue["orders"], "sma_cross traded over 120 candles"
    stored = ledger(db)
    assert sorted(stored) == sorted(o["clientOrderId"] for o in on_venue["orders"])
    for placed in on_venue["orders"]:
        doc = stored[placed["clientOrderId"]]
        assert doc["strategy_id"] == trading and doc["state"] == "filled"
        assert [step["state"] for step in doc["history"]] == ["sent", "filled"]
        assert doc["outcome"]["venue_order_id"] == str(placed["orderId"])
        assert doc["outcome"]["gross"] == pytest.approx(float(placed["executedQty"]))
    fills = list(db.order_fills.find())
    assert sorted(f["trade_id"] for f in fills) == sorted(t["id"] for t in on_venue["trades"])
    assert {f["client_order_id"] for f in fills} == set(stored)
    assert not redis.hlen(keys.order_outbox())


def test_the_api_lists_a_strategys_venue_orders_with_their_states_fills_and_fees(
    client, auth_headers, engine, db, redis, venue, trading
):
    run_candles(engine, CANDLES, 0, 120)
    answer = client.get(f"/api/v1/orders?strategy_id={trading}&per_page=1", headers=auth_headers)
    assert answer.status_code == 200
    page = answer.json
    assert page["total"] == len(venue.state()["orders"]) and len(page["items"]) == 1
    [newest] = page["items"]
    assert newest["client_order_id"].startswith("tf1") and newest["state"] == "filled"
    assert [step["state"] for step in newest["history"]] == ["sent", "filled"]
    assert newest["fills"] and newest["fills"][0]["fee_asset"] in ("BTC", "USDT")
    assert newest["outcome"]["fees"] and newest["outcome"]["venue_status"] == "FILLED"
    refused = client.get("/api/v1/orders?per_page=501", headers=auth_headers)
    assert refused.status_code == 422 and "per_page" in refused.text


def test_an_order_a_killed_worker_sent_but_never_booked_is_settled_by_the_reconciliation_and_reported_once(
    engine, db, redis, venue, trading
):
    """The worker wrote ``sent`` and sent the buy, then died: no position, no trade, and (Redis emptied, or the
    claim expired) no task left to book it. The pass records the venue's fill once and reports the mismatch."""
    lost = order(trading, 1_700_000_040_000)
    engine.ledger_outbox.write([ledger_record(venue_broker().venue, lost, "sent")])
    venue_broker().submit(lost)
    found = engine.reconcile_venue()
    assert found.settled == [lost.client_order_id]
    doc = ledger(db)[lost.client_order_id]
    assert doc["state"] == "filled" and [s["state"] for s in doc["history"]] == ["sent", "filled"]
    assert db.order_fills.count_documents({"client_order_id": lost.client_order_id}) == 1
    [mismatch] = live_events(redis, "mismatch")
    assert mismatch["strategy_id"] == trading and mismatch["engine_size"] == 0
    assert mismatch["broker_size"] == pytest.approx(1.0 * 0.999)  # net of the base-asset fee
    assert "no trade books it" in mismatch["reason"]
    again = engine.reconcile_venue()
    assert (again.settled, again.adopted, again.mismatches) == ([], [], [])
    assert db.order_fills.count_documents({}) == 1 and len(live_events(redis, "mismatch")) == 1


def test_a_filled_order_no_trade_books_is_reported_once_no_task_can_book_it_any_more(engine, db, redis, venue, trading):
    """The ledger has the venue's fill, but the move was never stored (its close dropped past its deadline, or its
    ``execute`` gave up): while its claim is young a retry may still book it; once it is older than the close's
    retention, the pass reports it, once."""
    sold_out = order(trading, 1_700_000_160_000)
    outcome = venue_broker().submit(sold_out)
    engine.order_ledger.record([ledger_record(venue_broker().venue, sold_out, "filled", "", outcome)])
    claim = keys.order_claim(sold_out.client_order_id)
    ttl_s = engine.settings.venue_claim_s(60_000)
    redis.set(claim, sold_out.to_json(), ex=ttl_s)
    assert engine.reconcile_venue().mismatches == []  # claimed just now: its execute may still book it
    redis.expire(claim, ttl_s - engine.settings.close_retention_s(60_000) - 1)
    [mismatch] = engine.reconcile_venue().mismatches
    assert sold_out.client_order_id in mismatch["reason"] and mismatch["broker_size"] == pytest.approx(0.999)
    assert engine.reconcile_venue().mismatches == []


def test_our_order_the_ledger_never_got_is_adopted_once_with_its_fills(engine, db, redis, venue, trading):
    lost = order(trading, 1_700_000_100_000)
    venue_broker().submit(lost)  # Redis lost the ledger's outbox before it reached MongoDB
    found = engine.reconcile_venue()
    assert found.adopted == [lost.client_order_id]
    doc = ledger(db)[lost.client_order_id]
    assert doc["adopted"] is True and doc["state"] == "filled" and doc["reason"] == "open"
    assert doc["ts"] == 1_700_000_100_000 and doc["side"] == "buy"
    assert engine.reconcile_venue().adopted == []
    assert db.order_fills.count_documents({}) == 1


def test_a_foreign_order_on_the_account_is_reported_once_and_never_traded(engine, db, redis, venue, trading):
    by_hand = OrderRequest("web_8c1f2e", "", SYMBOL, OrderSide.BUY, 2.0, PRICE, 0.0, 0, "manual")
    venue_broker().submit(by_hand)
    assert engine.reconcile_venue().foreign == ["web_8c1f2e"]
    assert engine.reconcile_venue().foreign == []
    [foreign] = live_events(redis, "foreign")
    assert foreign["client_order_id"] == "web_8c1f2e" and foreign["executed"] == pytest.approx(2.0)
    assert ledger(db) == {} and len(venue.state()["orders"]) == 1


def test_a_venue_account_holding_less_than_the_live_positions_is_a_mismatch_unless_an_order_just_moved(
    engine, db, redis, venue, trading
):
    run_candles(engine, CANDLES, 0, 145)
    position = engine.book.load(trading, SYMBOL, 10_000)
    assert position.side == 1
    db.orders.update_many({}, {"$set": {"updated_at": datetime.now(UTC) - timedelta(seconds=61)}})
    assert not engine.reconcile_venue().mismatches  # holding exactly what the position holds
    venue.balance(USDT=1_000_000, BTC=0)  # sold by hand
    [mismatch] = engine.reconcile_venue().mismatches
    assert mismatch["engine_size"] == pytest.approx(float(position.state[machine.SIZE]))
    assert mismatch["broker_size"] == 0 and "holds 0 BTC" in mismatch["reason"]
    db.orders.update_one({}, {"$set": {"updated_at": datetime.now(UTC)}})  # an order of BTCUSDT moving now
    assert not engine.reconcile_venue().mismatches  # its position may not be stored yet: the next pass looks


def test_live_orders_wait_for_the_reconciliation_a_start_asks_for_and_the_first_order_runs_it(
    engine, db, redis, venue, trading
):
    assert not redis.exists(keys.venue_reconciled())  # the live start cleared it
    redis.set(keys.venue_reconcile_lock(), "1")  # another process is reconciling
    unsettled: list[str] = []

    def pass_running(error: OrderUnsettled) -> None:
        assert "reconciliation is running" in error.reason and venue.state()["orders"] == []
        unsettled.append(error.reason)
        redis.delete(keys.venue_reconcile_lock())  # it finished without marking: the retry runs the pass, then sends

    run_candles(engine, CANDLES, 0, 120, on_unsettled=pass_running)
    assert len(unsettled) == 1 and redis.exists(keys.venue_reconciled())
    assert venue.state()["orders"] and all(doc["state"] == "filled" for doc in ledger(db).values())


def test_an_order_that_never_reached_the_venue_is_sent_once_by_the_retry_that_retakes_its_claim(
    engine, db, redis, venue, trading
):
    """The connection dropped before the venue booked the buy: its fate is unknown, so the retries look it up
    and wait while the attempt that claimed it could still be sending; past ``order_resend_after_s`` one retry
    retakes the claim and sends it, once."""
    venue.faults({"action": "drop", "before_booking": True})
    held: list[str] = []

    def look_again(error: OrderUnsettled) -> None:
        held.append(error.reason)
        assert venue.state()["orders"] == []
        if len(held) == 2:  # the claim is as old as a resend needs
            claim = keys.order_claim(error.client_order_id)
            redis.pexpire(claim, redis.pttl(claim) - int(engine.settings.order_resend_after_s * 1000) - 1)

    run_candles(engine, CANDLES, 0, 120, on_unsettled=look_again)
    assert "no answer" in held[0] and "may still send it" in held[1] and len(held) == 2
    orders = venue.state()["orders"]
    assert orders and len({o["clientOrderId"] for o in orders}) == len(orders)
    first = ledger(db)[orders[0]["clientOrderId"]]
    assert [s["state"] for s in first["history"]] == ["sent", "unknown", "resent", "filled"]
    assert "never booked" in first["history"][2]["detail"]


def test_a_worker_killed_after_the_venue_booked_its_order_trades_once_and_the_next_worker_books_it(
    start_worker, engine, db, redis, venue, trading
):
    """The venue booked the entry and held its answer; the worker was SIGKILLed before it heard. The next
    worker reconciles with the venue as it starts, and the close's ``execute``, delivered again, finds the
    order claimed and books the venue's fill: one order on the venue, one fill, one trade. Neither worker wrote
    the API key or secret anywhere."""
    env = {"TICKFLOW_EXCHANGE_URL": venue.url, "TICKFLOW_EXCHANGE_API_KEY": API_KEY}
    env["TICKFLOW_EXCHANGE_API_SECRET"] = API_SECRET
    [first, *_] = backtest_trades(validate_spec(spec_doc("sma_cross")), CANDLES)
    entry = list(CANDLES.ts).index(first[0])
    worker = start_worker(env=env)
    replay(send_ingest, redis, SYMBOL, "1m", CANDLES, stop=entry)
    assert venue.state()["orders"] == []
    venue.faults({"action": "delay", "seconds": 5})
    send_ingest(encode_batch(candle_ticks(SYMBOL, "1m", CANDLES, entry)))
    [booked] = wait_for(lambda: venue.state()["orders"], 20, "the venue to book the entry")
    worker.kill()
    assert not any(f["client_order_id"] == booked["clientOrderId"] for f in live_events(redis, "fill"))

    start_worker(env=env)
    assert wait_candle_processed(redis, SYMBOL, "1m", int(CANDLES.ts[entry - 1]), 90)
    replay(send_ingest, redis, SYMBOL, "1m", CANDLES, start=entry + 1, stop=120)
    wait_for(lambda: engine.archive.pending() == 0 and engine.ledger_outbox.pending() == 0, 10, "the outboxes")
    orders = venue.state()["orders"]
    assert len({o["clientOrderId"] for o in orders}) == len(orders) and orders[0]["orderId"] == booked["orderId"]
    fills = [f for f in live_events(redis, "fill") if f["client_order_id"] == booked["clientOrderId"]]
    assert len(fills) == 1 and fills[0]["gross"] == pytest.approx(float(booked["executedQty"]))
    assert db.trade_logs.count_documents({"entry_order_id": booked["clientOrderId"]}) == 1
    assert ledger(db)[booked["clientOrderId"]]["state"] == "filled"
    assert redis.exists(keys.venue_reconciled())
    # The keys never leave the ccxt client: not in a worker's log line, a stored document or an event.
    written = [path.read_text(errors="replace") for path in worker.log_path.parent.glob("*.log")]
    written += [json.dumps(list(db[name].find()), default=str) for name in db.list_collection_names()]
    written.append(json.dumps(redis.xrange(keys.live_events())))
    assert len(written) > 3 and not [text for text in written if API_KEY in text or API_SECRET in text]


def test_two_executes_of_one_close_send_its_order_once_and_book_it_once(
    start_worker, engine, db, redis, venue, trading
):
    """A worker's ``execute`` is waiting for the venue's answer when a second ``execute`` of the same close runs
    (here in this process, as a redelivered message would elsewhere): the position is locked while its orders
    are out, so the second waits (its retries) and then finds the close executed. One order on the venue, one
    fill, one trade."""
    env = {"TICKFLOW_EXCHANGE_URL": venue.url, "TICKFLOW_EXCHANGE_API_KEY": API_KEY}
    env["TICKFLOW_EXCHANGE_API_SECRET"] = API_SECRET
    [first, *_] = backtest_trades(validate_spec(spec_doc("sma_cross")), CANDLES)
    entry = list(CANDLES.ts).index(first[0])
    worker = start_worker(env=env)
    replay(send_ingest, redis, SYMBOL, "1m", CANDLES, stop=entry)
    venue.faults({"action": "delay", "seconds": 5})
    send_ingest(encode_batch(candle_ticks(SYMBOL, "1m", CANDLES, entry)))
    [booked] = wait_for(lambda: venue.state()["orders"], 20, "the venue to book the entry")
    close = int(CANDLES.ts[entry - 1])
    job = CloseJob("1m", close, int(time.time() * 1000), [Leg(SYMBOL, int(CANDLES.ts[entry]), [trading])])
    waits: list[str] = []

    def second_execute() -> bool:  # what the task does: try again while the position is locked
        try:
            engine.execute(job)
        except OrderUnsettled as error:
            waits.append(error.reason)
            return False
        return True

    wait_for(second_execute, 30, "the second execute to go through", every=0.2)
    assert waits[0] == "another task is moving BTCUSDT's position"  # while the worker's order was out
    assert all(reason in (waits[0], "BTCUSDT's position moved meanwhile") for reason in waits)
    assert wait_candle_processed(redis, SYMBOL, "1m", close, 30)
    done = f"execute: close 1m {close},"
    wait_for(lambda: done in worker.log_path.read_text(), 30, "the worker's execute to have its answer and end")
    replay(send_ingest, redis, SYMBOL, "1m", CANDLES, start=entry + 1, stop=entry + 3)
    assert [o["orderId"] for o in venue.state()["orders"]] == [booked["orderId"]]
    assert [f["client_order_id"] for f in live_events(redis, "fill")] == [booked["clientOrderId"]]
    assert db.trade_logs.count_documents({"entry_order_id": booked["clientOrderId"]}) == 1


def test_a_worker_killed_after_claiming_an_order_and_before_sending_it_trades_it_once(
    start_worker, engine, db, redis, venue, trading
):
    """The worker claimed the entry and wrote ``sent`` to the ledger, then waited for the venue's pause (a 429's
    Retry-After every process honours) and was SIGKILLed before the request left. The next worker's retry finds
    the order claimed and not on the venue and, once no attempt that claimed it can still be sending it (here the
    claim is aged past ``order_resend_after_s`` rather than waited for), sends it: one order, booked once."""
    env = {"TICKFLOW_EXCHANGE_URL": venue.url, "TICKFLOW_EXCHANGE_API_KEY": API_KEY}
    env.update(TICKFLOW_EXCHANGE_API_SECRET=API_SECRET, TICKFLOW_EXCHANGE_RECV_WINDOW_MS="8000")  # waits up to 2 s
    [first, *_] = backtest_trades(validate_spec(spec_doc("sma_cross")), CANDLES)
    entry = list(CANDLES.ts).index(first[0])
    order_id = client_order_id(trading, SYMBOL, int(CANDLES.ts[entry]), "open")
    worker = start_worker(env=env)
    wait_for(lambda: redis.exists(keys.venue_reconciled()), 20, "the worker's start-up reconciliation")
    replay(send_ingest, redis, SYMBOL, "1m", CANDLES, stop=entry)
    VenueLimiter(redis, venue_name(venue_broker().settings)).observe(None, 1.9)  # no request for 1.9 s
    send_ingest(encode_batch(candle_ticks(SYMBOL, "1m", CANDLES, entry)))
    wait_for(lambda: redis.hexists(keys.order_outbox(), f"{order_id}:sent"), 20, "the worker to claim the entry", 0.005)
    worker.kill()
    assert venue.state()["orders"] == []  # killed while it waited: the request never left
    claim = keys.order_claim(order_id)
    redis.pexpire(claim, redis.pttl(claim) - int(engine.settings.order_resend_after_s * 1000) - 1000)

    start_worker(env=env)
    assert wait_candle_processed(redis, SYMBOL, "1m", int(CANDLES.ts[entry - 1]), 60)
    wait_for(lambda: engine.ledger_outbox.pending() == 0, 10, "the ledger's outbox to empty")
    assert [o["clientOrderId"] for o in venue.state()["orders"]] == [order_id]
    assert [f["client_order_id"] for f in live_events(redis, "fill")] == [order_id]
    [doc], _ = engine.order_ledger.find(strategy_id=trading)
    assert [step["state"] for step in doc["history"]] == ["sent", "resent", "filled"]
