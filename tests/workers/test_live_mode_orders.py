"""A strategy started in ``live`` mode trades on a venue (the local Binance-speaking server, in its own process):
the engine sends its orders there and books what the venue executed, net of fees."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from cli.main import main
from strategies import position as machine
from tests.workers.conftest import SYMBOL, create_strategy, list_venue, spec_doc
from tests.workers.conftest import live_events as events
from tests.workers.replay import run_candles
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.active import LiveStartRefused, OrderUnsettled
from tickflow.synthetic import generate_candles
from workers import broker as brokers
from workers.engine import LiveEngine


def test_a_live_entry_holds_what_the_venue_executed_net_of_its_base_asset_fee(engine, db, redis, venue):
    candles = generate_candles(120, "1m", seed=7)
    price = round(float(candles.close[-1]), 2)
    list_venue(venue, price)
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "live", 10_000)
    run_candles(engine, candles, 0, 120)
    orders = venue.state()["orders"]
    assert orders, "sma_cross entered at least once over 120 candles"
    buy = orders[0]
    assert buy["side"] == "BUY" and buy["clientOrderId"].startswith("tf1")
    fills = [fill for fill in events(redis, "fill") if fill["client_order_id"] == buy["clientOrderId"]]
    assert len(fills) == 1 and fills[0]["status"] == "FILLED"
    executed = float(buy["executedQty"])
    assert fills[0]["size"] == pytest.approx(executed * (1 - 0.001))  # the fee came out of the BTC received
    assert fills[0]["price"] == pytest.approx(price)
    position = engine.book.load(strategy_id, SYMBOL, 10_000)
    if len(orders) == 1:  # still open: the position holds exactly what the account got
        assert float(position.state[machine.SIZE]) == pytest.approx(executed * (1 - 0.001))
    else:  # closed: the sell sold what the buy left, rounded down to the step
        assert float(orders[1]["origQty"]) == pytest.approx(executed * (1 - 0.001), abs=0.00001)


def test_a_rejected_entry_leaves_the_strategy_flat_with_a_rejected_event_and_is_not_sent_again(
    engine, db, redis, venue
):
    candles = generate_candles(120, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    venue.balance(USDT=10_000, BTC=0)
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "live", 10_000)
    venue.balance(USDT=5, BTC=0)  # spent elsewhere after the start: the venue refuses the buy (-2010)
    run_candles(engine, candles, 0, 120)
    rejected = events(redis, "rejected")
    assert rejected and rejected[0]["code"] == -2010 and rejected[0]["kind"] == "rejected"
    assert venue.state()["orders"] == [] or all(o["status"] != "FILLED" for o in venue.state()["orders"])
    position = engine.book.load(strategy_id, SYMBOL, 10_000)
    assert position.side == 0 and float(position.state[machine.BALANCE]) == pytest.approx(10_000)
    assert not events(redis, "fill")


def test_a_live_start_the_venue_cannot_carry_is_refused_with_the_reason(engine, db, redis, venue):
    list_venue(venue, 100.0)
    venue.balance(USDT=15_000, BTC=0)
    shorting = create_strategy(db, redis, spec_doc("sma_cross", rules={"enter_short": "crosses_below(fast, slow)"}))
    with pytest.raises(LiveStartRefused, match="enter_short"):
        engine.start(shorting, "live", 10_000)
    first = create_strategy(db, redis, spec_doc("sma_cross", name="first"))
    engine.start(first, "live", 10_000)
    second = create_strategy(db, redis, spec_doc("sma_cross", name="second"))
    with pytest.raises(LiveStartRefused, match="10000 of it held by other live strategies"):
        engine.start(second, "live", 10_000)
    elsewhere = create_strategy(db, redis, spec_doc("sma_cross", name="elsewhere", symbols=["ETHUSDT"]))
    with pytest.raises(LiveStartRefused, match="ETHUSDT: not a spot symbol"):
        engine.start(elsewhere, "live", 1_000)


def test_the_api_starts_a_live_strategy_or_answers_409_with_what_the_venue_cannot_carry(
    client, auth_headers, db, redis, venue
):
    list_venue(venue, 100.0)
    venue.balance(USDT=5_000, BTC=0)
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    url = f"/api/v1/strategies/{strategy_id}/start"
    refused = client.post(url, json={"mode": "live", "cash": 10_000}, headers=auth_headers)
    assert refused.status_code == 409
    assert "needs 10000 USDT free; the account has 5000 free" in refused.json["message"]
    started = client.post(url, json={"mode": "live", "cash": 2_000}, headers=auth_headers)
    assert started.status_code == 200 and started.json["mode"] == "live"
    unknown = client.post(url, json={"mode": "margin"}, headers=auth_headers)
    assert unknown.status_code == 422 and "mode" in json.dumps(unknown.json)


def test_an_order_whose_answer_was_lost_is_looked_up_by_the_retry_and_never_sent_twice(engine, db, redis, venue):
    """The venue books the first order and answers 503 / -1007 ("execution status unknown"): execute stores
    nothing and raises; its retry finds the order claimed, looks it up, and books the venue's fill once."""
    candles = generate_candles(120, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "live", 10_000)
    venue.faults({"action": "error", "status": 503, "code": -1007})
    unsettled: list[OrderUnsettled] = []
    run_candles(engine, candles, 0, 120, on_unsettled=unsettled.append)  # then the task's retry
    assert len(unsettled) == 1
    orders = venue.state()["orders"]
    ids = [order["clientOrderId"] for order in orders]
    assert ids and len(ids) == len(set(ids))
    fills = [fill["client_order_id"] for fill in events(redis, "fill")]
    assert sorted(fills) == sorted(ids)  # each venue order booked once, the lost one included


def test_the_cli_asks_before_a_live_start_and_says_why_the_venue_refuses_one(db, redis, venue, monkeypatch, capsys):
    list_venue(venue, 100.0)
    venue.balance(USDT=5_000, BTC=0)
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["strategies", "start", strategy_id, "--mode", "live", "--cash", "2000"]) == 130
    assert "Trade real orders" in capsys.readouterr().out and not redis.hlen(keys.live_active())
    assert main(["strategies", "start", strategy_id, "--mode", "live", "--cash", "10000", "--yes"]) == 1
    assert "not started: cash 10000 on 1 symbol(s) needs 10000 USDT free" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["strategies", "start", strategy_id, "--mode", "live", "--cash", "2000"]) == 0
    assert f"started {strategy_id} live on BTCUSDT" in capsys.readouterr().out


def test_orders_refused_again_and_again_for_lack_of_balance_pause_the_strategys_entries_until_it_starts_again(
    engine, db, redis, venue, client, auth_headers
):
    candles = generate_candles(120, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    colour = spec_doc("sma_cross", rules={"enter_long": "close > open", "exit_long": "close < open"})
    strategy_id = create_strategy(db, redis, colour)
    engine.start(strategy_id, "live", 10_000)
    venue.balance(USDT=5, BTC=0)  # spent elsewhere: every buy is refused (-2010)
    run_candles(engine, candles, 0, 60)
    assert len(events(redis, "rejected")) == 3  # then no more buys are sent
    [paused] = events(redis, "broker")
    assert paused["strategy_id"] == strategy_id and paused["action"] == "paused" and paused["code"] == -2010
    blocked = [e for e in events(redis, "limit") if e["limit"] == "broker"]
    assert blocked and all(e["action"] == "cancelled" for e in blocked)
    listed = client.get("/api/v1/live/strategies", headers=auth_headers).json
    assert listed[0]["entries_paused"]["rejections"] == 3

    venue.balance(USDT=1_000_000, BTC=0)
    engine.start(strategy_id, "live", 10_000)  # lifts the pause
    run_candles(engine, candles, 60, 120)
    assert events(redis, "fill") and len(events(redis, "broker")) == 1


def test_positions_an_execute_has_no_time_left_to_start_are_sent_by_its_retry(db, redis, venue):
    """Past ``venue_time_s`` an execute starts no more venue orders (a task killed at its hard time limit would
    book none of those it sent): those positions wait, unsent, for the task's retry."""
    candles = generate_candles(120, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    spent = LiveEngine(redis, db, replace(LiveSettings(), venue_time_s=-1.0))  # its time is always spent
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    spent.start(strategy_id, "live", 10_000)
    fresh = LiveEngine(redis, db, LiveSettings())
    waited = 0

    def spent_time(error: OrderUnsettled) -> None:
        nonlocal waited
        assert "time for the venue is spent" in error.reason and not venue.state()["orders"][waited:]
        waited += 1

    run_candles(spent, candles, 0, 120, on_unsettled=spent_time, retry_with=fresh)
    orders = venue.state()["orders"]
    assert waited == len(orders) > 0 and len({o["clientOrderId"] for o in orders}) == len(orders)


def test_a_strategy_holding_paper_positions_cannot_restart_live_and_keep_them(engine, db, redis, venue):
    candles = generate_candles(145, "1m", seed=7)  # sma_cross is long from bar 139 on
    list_venue(venue, round(float(candles.close[-1]), 2))
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "paper", 10_000)
    run_candles(engine, candles, 0, 145)
    assert engine.book.load(strategy_id, SYMBOL, 10_000).side == 1
    with pytest.raises(LiveStartRefused, match="holds positions on BTCUSDT from its paper run"):
        engine.start(strategy_id, "live", 10_000)  # its close would sell on the venue what was never bought there
    assert engine.active.get(strategy_id).mode == "paper" and venue.state()["orders"] == []


def test_a_live_start_is_refused_when_a_late_request_could_outlive_the_resend_rule(
    engine, db, redis, venue, monkeypatch
):
    list_venue(venue, 100.0)
    monkeypatch.setenv("TICKFLOW_EXCHANGE_RECV_WINDOW_MS", "40000")  # 40 s + 10 s timeout + 25 s limit > 60 s
    brokers._venue_brokers.clear()
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    with pytest.raises(LiveStartRefused, match="lower TICKFLOW_EXCHANGE_RECV_WINDOW_MS"):
        engine.start(strategy_id, "live", 1_000)


def test_live_orders_wait_with_the_reason_while_the_exchange_settings_are_unusable(
    engine, db, redis, venue, monkeypatch
):
    candles = generate_candles(120, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross"))
    engine.start(strategy_id, "live", 10_000)
    monkeypatch.delenv("TICKFLOW_EXCHANGE_API_SECRET")  # gone from the workers' environment
    brokers._venue_brokers.clear()
    with pytest.raises(OrderUnsettled, match=r"cannot trade on the venue: .*API_SECRET"):
        run_candles(engine, candles, 0, 120)
    assert venue.state()["orders"] == []


def test_a_position_whose_order_awaits_the_venue_is_passed_by_and_trades_again_once_the_venue_answers(
    engine, db, redis, venue
):
    """The venue books a live entry and answers 503 / -1007. While the execute's retry waits for an answer, later
    closes pass that position by (a ``broker`` "awaiting" event) instead of holding up the close for every
    strategy: one paper trading the same symbol goes on trading. The retry, by then past its candle's deadline,
    looks the order up and books it (never cancels it, never sends it again), and the next close takes the
    position up again (a "resumed" event)."""
    candles = generate_candles(160, "1m", seed=7)
    list_venue(venue, round(float(candles.close[-1]), 2))
    live_id = create_strategy(db, redis, spec_doc("sma_cross", name="live"))
    paper_id = create_strategy(db, redis, spec_doc("sma_cross", name="paper"))
    engine.start(live_id, "live", 10_000)
    engine.start(paper_id, "paper", 10_000)
    venue.faults({"action": "error", "status": 503, "code": -1007})
    held: list = []
    candle = 0
    while not held:
        run_candles(engine, candles, candle, candle + 1, held=held)
        candle += 1
    [sent] = venue.state()["orders"]

    run_candles(engine, candles, candle, candle + 5, held=held)  # five closes while the retry waits
    live = engine.book.load(live_id, SYMBOL, 10_000)
    paper = engine.book.load(paper_id, SYMBOL, 10_000)
    assert len(held) == 1 and live.evaluated == held[0].close and paper.evaluated == int(candles.ts[candle + 3])
    [awaiting] = [e for e in events(redis, "broker") if e["action"] == "awaiting"]
    assert awaiting["strategy_id"] == live_id and awaiting["client_order_id"] == sent["clientOrderId"]

    engine.execute(held[0])  # the task's retry, past the candle's deadline: looked up, booked
    assert [order["clientOrderId"] for order in venue.state()["orders"]] == [sent["clientOrderId"]]
    [fill] = [f for f in events(redis, "fill") if f["client_order_id"] == sent["clientOrderId"]]
    live = engine.book.load(live_id, SYMBOL, 10_000)
    assert live.side == 1 and float(live.state[machine.SIZE]) == pytest.approx(fill["size"])

    run_candles(engine, candles, candle + 5, 160)
    [resumed] = [e for e in events(redis, "broker") if e["action"] == "resumed"]
    assert resumed["strategy_id"] == live_id and resumed["passed"] == 5
    live = engine.book.load(live_id, SYMBOL, 10_000)
    assert live.evaluated == live.executed == int(candles.ts[158])
    assert not redis.hlen(keys.awaiting_venue())
    ids = [order["clientOrderId"] for order in venue.state()["orders"]]
    assert len(ids) > 1 and len(ids) == len(set(ids))
