"""The live overview: start a strategy with cash, watch a replayed feed fill its order (a toast, the event feed and
the positions table, without reloading), stop it (only by closing its positions); and stop everything after
confirming."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

from strategies.spec import validate_spec
from tests.celery_workers import wait_for
from tests.ui.conftest import Stack, shot
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, send_ingest, spec_doc
from tests.workers.replay import backtest_trades, replay
from tickflow.synthetic import generate_candles

CASH = 5_000


def price_text(value: float) -> str:
    """A price as the UI's ``formatPrice`` shows it (two decimals from 1,000 up, up to four under)."""
    if abs(value) >= 1000:
        return f"{value:,.2f}"
    text = f"{value:,.4f}".rstrip("0")
    return text if len(text.split(".")[1]) >= 2 else f"{value:,.2f}"


def quantity_text(value: float) -> str:
    return f"{value:,.8f}".rstrip("0").rstrip(".")


def stream_open(page: Page) -> None:
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))


def test_a_strategy_started_here_fills_on_a_replayed_feed_and_stops_closing_its_position(logged_in: Page, db, redis):
    page = logged_in
    sizing, costs = {"value": 0.5, "step": 0.0001}, {"commission": 0.001}
    doc = spec_doc("sma_cross", name="SMA cross live", sizing=sizing, costs=costs)
    strategy_id = create_strategy(db, redis, doc)
    candles = generate_candles(200, TIMEFRAME, seed=7, start_price=60_000)
    first = backtest_trades(validate_spec(doc), candles, CASH)[0]
    entry = list(candles.ts).index(first[0])  # the candle at whose open the first trade enters

    page.reload()  # the strategy was stored after the page loaded
    stream_open(page)
    expect(page.get_by_text("Nothing is trading")).to_be_visible()
    page.get_by_label("Strategy", exact=True).select_option(label="SMA cross live (BTCUSDT · 1m)")
    page.get_by_label("Cash per symbol").fill("0")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#start-cash-error")).to_have_text("Cash must be more than 0.")
    page.get_by_label("Cash per symbol").fill(str(CASH))
    page.get_by_role("button", name="Start", exact=True).click()

    card = page.get_by_test_id("strategy-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("SMA cross live")
    expect(card).to_contain_text("5,000.00 USDT")
    assert db.strategies.find_one({"name": "SMA cross live"})["live"]["cash"] == CASH

    # The feed replays candles up to the one whose open fills the entry, as a lockstep replay feed would.
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, stop=entry + 1)
    fill_text = f"Filled: buy {quantity_text(first[3])} {SYMBOL} @ {price_text(first[4])}"
    expect(page.get_by_test_id("toast").filter(has_text="Filled:")).to_contain_text(fill_text)
    expect(page.get_by_test_id("feed-item").filter(has_text=fill_text)).to_have_count(1)
    expect(page.locator('[data-testid="feed-item"][data-kind="order"]')).to_have_count(1)
    row = page.get_by_test_id("position-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SMA cross live")
    expect(row).to_contain_text("long")
    expect(row).to_contain_text(price_text(first[4]))

    # Candle closes re-price the position in the page.
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, start=entry + 1, stop=entry + 3)
    expect(row.get_by_test_id("position-price")).to_have_text(price_text(float(candles.close[entry + 1])))
    expect(card.get_by_test_id("card-pnl")).not_to_have_text("+0.00 USDT (+0.00 %)")
    shot(page, "live")

    # Holding a position, it stops only closing it: the card says why and how (a stop would leave it unmanaged).
    card.get_by_role("button", name="Stop SMA cross live").click()
    expect(card.get_by_role("alert")).to_contain_text("holds open positions (BTCUSDT): stop it with close_positions")
    expect(card.get_by_role("alert")).to_contain_text("or halt trading")
    expect(page.get_by_test_id("position-row")).to_contain_text("long")
    stopped = page.get_by_test_id("stopped-card")
    expect(stopped).to_have_count(0)

    card.get_by_label("Close positions").check()
    card.get_by_role("button", name="Stop SMA cross live").click()
    expect(stopped).to_contain_text("SMA cross live")
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    wait_for(lambda: db.trade_logs.count_documents({"strategy_id": strategy_id, "status": "closed"}) == 1, 10,
             "the closed trade in trade_logs")  # fmt: skip
    assert db.strategies.find_one({"name": "SMA cross live"})["live"]["active"] is False

    # Flat, it starts a new run with any cash, from its card.
    stopped.get_by_label("Cash per symbol").fill("2500")
    stopped.get_by_role("button", name="Start SMA cross live again").click()
    expect(card).to_contain_text("2,500.00 USDT")
    expect(page.get_by_test_id("stopped-card")).to_have_count(0)


def test_stop_all_asks_first_then_stops_every_strategy(logged_in: Page, stack: Stack, token: str, db, redis):
    page = logged_in
    headers = {"Authorization": f"Bearer {token}"}
    for name in ("Alpha trend", "Beta trend"):
        strategy_id = create_strategy(db, redis, spec_doc("sma_cross", name=name))
        url = f"{stack.api}/api/v1/strategies/{strategy_id}/start"
        answer = requests.post(url, json={"cash": 1000}, headers=headers)
        assert answer.status_code == 200, answer.text
    page.reload()
    expect(page.get_by_test_id("strategy-card")).to_have_count(2)

    page.get_by_role("button", name="Stop all").click()
    dialog = page.get_by_role("dialog", name="Stop all 2 active strategies?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("strategy-card")).to_have_count(2)

    page.get_by_role("button", name="Stop all").click()
    expect(dialog).to_contain_text("Alpha trend, Beta trend")
    shot(page, "live-stop-all")
    dialog.get_by_label("Close their positions at the last price").check()
    dialog.get_by_role("button", name="Stop all").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("strategy-card")).to_have_count(0)
    expect(page.get_by_test_id("stopped-card")).to_have_count(2)
    expect(page.get_by_test_id("toast").filter(has_text="Stopped 2 strategies")).to_be_visible()
    assert db.strategies.count_documents({"live.active": True}) == 0
    expect(page.get_by_role("button", name="Stop all")).to_be_disabled()
