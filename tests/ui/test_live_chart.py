"""The live chart: a strategy with stored history, started on paper from its chart page, its candles replayed through
the ingest queue; the chart draws the live candles after the stored ones and a fill arrives as a toast and a marker,
with the position's price lines and its trade beside, without reloading; then it is stopped closing its position.

It also measures how long a candle event takes from the stream (its Redis stream id is the time it was published) to
its bar drawn on the chart (the next animation frame after the chart was updated), and prints the figures."""

from __future__ import annotations

import json
import re
import statistics

from playwright.sync_api import Page, expect

from tests.celery_workers import wait_for
from tests.ui.conftest import shot
from tests.ui.test_live_overview import price_text, stream_open
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, send_ingest, spec_doc
from tests.workers.replay import candle_ticks, replay
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles
from workers.progress import wait_candle_open, wait_candle_processed
from workers.ticks import encode_batch

STORED = 300  # candles stored before the strategy starts; the rest arrive live
CASH = 5_000

# Records, for every candle event drawn, the time from its publication (the ms part of its stream id) to the next
# animation frame after the chart drew it.
MEASURE = """() => {
  const chart = document.querySelector('[data-testid="live-chart"]');
  window.__candleDelays = [];
  new MutationObserver(() => {
    const id = chart.dataset.lastEventId;
    if (!id) return;
    requestAnimationFrame(() => window.__candleDelays.push(Date.now() - Number(id.split('-')[0])));
  }).observe(chart, { attributes: true, attributeFilter: ['data-last-event-id'] });
}"""


def replay_live(redis, candles, start: int, stop: int) -> None:
    """Candles ``start`` to ``stop - 1`` through the ingest queue in lockstep, the first one after stored history."""
    send_ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, start)))
    assert wait_candle_open(redis, SYMBOL, TIMEFRAME, int(candles.ts[start]), 30), "first live candle not applied"
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, start=start + 1, stop=stop)


def replay_until_fill(redis, candles, start: int) -> int:
    """Candles from ``start`` on, one close at a time, until the paper broker fills an order; the last index sent."""
    for i in range(start, len(candles)):
        send_ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, i)))
        assert wait_candle_processed(redis, SYMBOL, TIMEFRAME, int(candles.ts[i - 1]), 30), (
            f"close {i - 1} not processed"
        )
        if redis.hlen(keys.paper_fills()):
            return i
    raise AssertionError("no fill in the whole replay")


def test_live_candles_and_a_fill_reach_the_chart_without_reloading(logged_in: Page, db, redis):
    page = logged_in
    doc = spec_doc(
        "sma_cross",
        name="SMA cross chart",
        sizing={"value": 0.5, "step": 0.0001},
        costs={"commission": 0.001},
        risk={"stop_loss": {"fraction": 0.02}, "take_profit": {"fraction": 0.04}},
    )
    strategy_id = create_strategy(db, redis, doc)
    candles = generate_candles(STORED + 200, TIMEFRAME, seed=11, start_price=60_000)
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, candles.between(None, int(candles.ts[STORED])))

    page.goto(f"/live/{strategy_id}")
    page.evaluate("window.__sameDocument = true")
    stream_open(page)
    expect(page.get_by_role("heading", name="SMA cross chart")).to_be_visible()
    expect(page.get_by_text("Not trading")).to_be_visible()
    chart = page.get_by_test_id("live-chart")
    expect(chart.get_by_role("figure")).to_be_visible()
    expect(page.get_by_test_id("chart-summary")).to_contain_text("Stored history; live candles are added as they close")
    expect(chart).to_have_attribute("data-last-candle", str(int(candles.ts[STORED - 1])))
    expect(page.get_by_text("No trades yet")).to_be_visible()
    expect(page.get_by_text("No equity points yet")).to_be_visible()

    page.get_by_label("Cash per symbol").fill(str(CASH))
    page.get_by_role("button", name="Start SMA cross chart on paper").click()
    expect(page.get_by_text("Trading · paper")).to_be_visible()
    page.evaluate(MEASURE)

    # Live candles follow the stored ones on the chart, drawn as they close.
    replay_live(redis, candles, STORED, STORED + 30)
    expect(chart).to_have_attribute("data-last-candle", re.compile(r"\d+"))
    wait_for(lambda: int(chart.get_attribute("data-last-candle")) >= int(candles.ts[STORED + 28]), 10,
             "the last closed live candle on the chart")  # fmt: skip
    expect(chart).to_have_attribute("data-markers", "0")

    # Until the strategy's first fill: a toast and a buy marker, the position with its stop and target.
    filled_at = replay_until_fill(redis, candles, STORED + 30)
    expect(page.get_by_test_id("toast").filter(has_text="Filled: buy")).to_be_visible()
    size = json.loads(next(iter(redis.hvals(keys.paper_fills()))))["size"]
    marker = page.get_by_test_id("chart-marker").filter(has_text=f"buy {size:,.8f}".rstrip("0").rstrip("."))
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("data-side", "buy")
    expect(page.get_by_test_id("position")).to_contain_text(re.compile(r"^long [\d.]+ @ [\d,.]+$"))
    trade = page.get_by_test_id("chart-trade")
    expect(trade).to_have_count(1)
    expect(trade).to_have_attribute("data-status", "open")
    expect(trade).to_contain_text("stop")
    entry = db.trade_logs.find_one({"strategy_id": strategy_id, "status": "open"})
    assert entry is not None and entry["stop"] < entry["entry_price"] < entry["target"]
    expect(page.get_by_test_id("stop-price")).to_have_text(price_text(entry["stop"]))
    expect(page.get_by_test_id("target-price")).to_have_text(price_text(entry["target"]))

    # A few more closes: the chart, the position's price and the equity curve move on.
    replay(send_ingest, redis, SYMBOL, TIMEFRAME, candles, start=filled_at + 1, stop=filled_at + 4)
    wait_for(lambda: int(chart.get_attribute("data-last-candle")) >= int(candles.ts[filled_at + 2]), 10,
             "the closes after the fill on the chart")  # fmt: skip
    expect(page.get_by_test_id("equity-last")).to_contain_text("USDT")
    expect(page.get_by_label("Live equity (USDT) and balance over time")).to_be_visible()
    page.get_by_test_id("chart-marker").first.focus()
    shot(page, "live-chart")

    delays = page.evaluate("window.__candleDelays")
    assert delays, "no candle event was measured"
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(f"\ncandle event -> drawn: n={len(delays)} median={statistics.median(delays):.0f} ms "
          f"p99={p99:.0f} ms max={delays[-1]:.0f} ms")  # fmt: skip

    # Stopped closing its position: the sell arrives as a marker too; the page never reloaded.
    page.get_by_label("Close positions").check()
    page.get_by_role("button", name="Stop SMA cross chart").click()
    expect(page.get_by_text("Not trading")).to_be_visible()
    expect(page.get_by_test_id("position")).to_have_text("flat")
    wait_for(lambda: db.trade_logs.count_documents({"strategy_id": strategy_id, "status": "closed"}) == 1, 10,
             "the closed trade in trade_logs")  # fmt: skip
    expect(trade).to_have_attribute("data-status", "closed")
    expect(page.locator('[data-testid="chart-marker"][data-side="sell"]')).to_have_count(1)
    assert db.strategies.find_one({"name": "SMA cross chart"})["live"]["active"] is False
    assert page.evaluate("window.__sameDocument === true")
