"""Live trading on a venue from the UI: a live start asks first, and says why the venue cannot carry one; started, the
strategy's orders go to the local Binance-speaking venue, and its page lists them with what the venue executed and
charged, each opening to its history and fills by the venue's trade id."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from strategies.spec import validate_spec
from tests.ui.conftest import shot
from tests.ui.test_live_overview import price_text, quantity_text, stream_open
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, send_ingest, spec_doc, wait_for
from tests.workers.replay import backtest_trades, replay
from tickflow.storage import keys
from tickflow.storage.events import publish
from tickflow.synthetic import generate_candles

CASH = 2_000


def test_a_live_start_asks_first_explains_a_refusal_and_its_venue_orders_show_with_their_fees(
    logged_in: Page, db, redis, local_venue
):
    page = logged_in
    doc = spec_doc("sma_cross", name="SMA cross venue", sizing={"value": 0.5, "step": 0.00001})
    strategy_id = create_strategy(db, redis, doc)
    candles = generate_candles(150, TIMEFRAME, seed=7, start_price=60_000)
    first = backtest_trades(validate_spec(doc), candles, CASH)[0]
    entry = list(candles.ts).index(first[0])  # the candle at whose open the first trade enters
    local_venue.reset()
    local_venue.symbol("BTCUSDT", "BTC", "USDT", price=round(float(candles.open[entry]), 2), depth=1_000_000,
                       step="0.00001", min_qty="0.00001")  # fmt: skip
    local_venue.balance(USDT=5_000, BTC=0)

    page.reload()  # the strategy was stored after the page loaded
    stream_open(page)
    page.get_by_label("Strategy", exact=True).select_option(label="SMA cross venue (BTCUSDT · 1m)")
    page.get_by_label("Mode").select_option(label="Live (on the venue)")
    expect(page.get_by_text("Real orders on the venue set on the server")).to_be_visible()
    page.get_by_label("Cash per symbol").fill("10000")

    # Cancelled, nothing is sent.
    page.get_by_role("button", name="Start", exact=True).click()
    dialog = page.get_by_role("dialog", name="Trade real orders?")
    expect(dialog).to_contain_text("SMA cross venue starts live on BTCUSDT with 10,000.00 USDT per symbol.")
    expect(dialog).to_contain_text("Its orders go to the exchange configured on the server")
    shot(page, "live-venue-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not redis.hlen(keys.live_active())

    # Confirmed, the venue's free USDT cannot carry it: the reason shows under the form.
    page.get_by_role("button", name="Start", exact=True).click()
    dialog.get_by_role("button", name="Start live").click()
    refusal = page.get_by_role("form", name="Start a strategy").get_by_role("alert")
    expect(refusal).to_contain_text("needs 10000 USDT free; the account has 5000 free")
    expect(page.get_by_test_id("strategy-card")).to_have_count(0)
    shot(page, "live-venue-refused")

    page.get_by_label("Cash per symbol").fill(str(CASH))
    page.get_by_role("button", name="Start", exact=True).click()
    dialog.get_by_role("button", name="Start live").click()
    card = page.get_by_test_id("strategy-card")
    expect(card).to_contain_text("SMA cross venue")
    expect(card).to_contain_text("live")
    assert db.strategies.find_one({"name": "SMA cross venue"})["live"]["mode"] == "live"

    # Its page: no venue orders yet, then the entry's, refreshed by the fill on the stream.
    page.goto(f"/live/{strategy_id}")
    stream_open(page)
    expect(page.get_by_text("Trading · live")).to_be_visible()
    expect(page.get_by_text("No venue orders yet")).to_be_visible()
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, stop=entry + 1)
    [placed] = wait_for(lambda: local_venue.state()["orders"], 20, "the venue to book the entry")
    ledger = wait_for(lambda: db.orders.find_one({"_id": placed["clientOrderId"], "state": "filled"}), 20,
                      "the entry filled in the ledger")  # fmt: skip
    row = page.get_by_test_id("venue-order")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-state", "filled")
    expect(row).to_contain_text("buy")
    expect(row).to_contain_text(str(placed["orderId"]))
    expect(row).to_contain_text(quantity_text(float(placed["executedQty"])))
    expect(row).to_contain_text(price_text(ledger["outcome"]["average_price"]))
    [fee] = ledger["outcome"]["fees"]
    expect(row.get_by_test_id("venue-order-fees")).to_have_text(f"{quantity_text(fee['amount'])} {fee['asset']}")

    row.get_by_role("button", expanded=False).click()
    details = page.get_by_test_id("venue-order-details")
    expect(details.get_by_test_id("order-history")).to_contain_text(re.compile("sent.*filled", re.S))
    trade = local_venue.state()["trades"][0]
    expect(details.get_by_test_id("order-fills")).to_contain_text(str(trade["id"]))
    page.get_by_role("heading", name="Venue orders").scroll_into_view_if_needed()
    shot(page, "live-venue-orders")

    # The same page in the dark theme.
    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_test_id("venue-order")).to_have_attribute("data-state", "filled")
    page.get_by_test_id("venue-order").get_by_role("button", expanded=False).click()
    page.get_by_role("heading", name="Venue orders").scroll_into_view_if_needed()
    shot(page, "live-venue-orders-dark")


def test_a_position_awaiting_the_venue_and_trading_again_shows_in_the_feed(logged_in: Page, db, redis):
    """The engine's ``broker`` events (tests/workers/test_live_mode_orders.py publishes them for real) read as
    sentences in the live feed, under the "Venue" filter: amber while the order awaits an answer, green once
    the position trades again."""
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", name="SMA cross awaiting"))
    page = logged_in
    page.goto("/live")
    stream_open(page)
    since = int(time.time() * 1000)
    order_id, why = "tf1ZfHCqeSw09zfoZkSx-Z0AAAGTHLjgo", "unknown: Service Unavailable"
    mark = {"strategy_id": strategy_id, "symbol": SYMBOL, "close": since - 120_000, "since": since,
            "client_order_id": order_id, "reason": why}  # fmt: skip
    publish(redis, "broker", {"action": "awaiting", **mark})
    venue_items = page.locator('[data-testid="feed-item"][data-kind="broker"]')
    expect(venue_items).to_have_count(1)
    expect(venue_items).to_contain_text(
        "Order tf1ZfHCqeSw09zfoZkSx-Z0AAAGTHLjgo on BTCUSDT awaits the venue's answer (unknown: Service Unavailable)"
    )
    publish(
        redis, "broker", {**mark, "action": "resumed", "since": since + 180_000, "awaited_since": since, "passed": 2}
    )
    expect(venue_items).to_have_count(2)
    expect(venue_items.filter(has_text="trades again")).to_contain_text(
        "BTCUSDT trades again: the venue answered; 2 closes passed it by"
    )
    shot(page, "live-feed-venue")

    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    stream_open(page)
    publish(
        redis, "broker", {**mark, "action": "resumed", "since": since + 240_000, "awaited_since": since, "passed": 3}
    )
    expect(venue_items.filter(has_text="3 closes passed it by")).to_have_count(1)
    shot(page, "live-feed-venue-dark")
