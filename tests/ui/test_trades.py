"""The trades journal: filters in the URL (shareable, the back button steps through them), server paging, a CSV
export of the whole filter, and the realised PnL curve, over trades archived in ``trade_logs``."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.conftest import shot
from tests.workers.conftest import create_strategy, spec_doc
from tickflow.storage.trade_logs import TradeLogRepository
from workers.orders import client_order_id

HOUR = 3_600_000
START = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)


def trade_records(strategy_id: str, symbol: str, closed: int, open_: int, price: float, seed: int) -> list[dict]:
    """``closed`` closed trades then ``open_`` open ones, as the live engine archives them (1h candles)."""
    rng = random.Random(seed)
    records, t = [], START + seed * HOUR
    for i in range(closed + open_):
        entry_price = price
        size = round(500 / price, 4)
        side = "long" if rng.random() < 0.7 else "short"
        record = {
            "trade_id": f"{strategy_id}:{symbol}:{t}",
            "rev": 0,
            "status": "open",
            "strategy_id": strategy_id,
            "symbol": symbol,
            "timeframe": "1h",
            "mode": "paper",
            "run": START,
            "side": side,
            "size": size,
            "entry_time": t,
            "entry_price": entry_price,
            "entry_commission": round(size * entry_price * 0.001, 6),
            "stop": None,
            "target": None,
            "trail_offset": 0.0,
            "trail_anchor": 0.0,
            "entry_order_id": client_order_id(strategy_id, symbol, t, "open"),
        }
        price = round(price * (1 + rng.gauss(0, 0.01)), 2)
        if i < closed:
            exit_time = t + rng.randint(1, 5) * HOUR
            sign = 1 if side == "long" else -1
            commission = record["entry_commission"] + round(size * price * 0.001, 6)
            pnl = sign * size * (price - entry_price) - commission
            record.update(
                rev=1, status="closed", exit_time=exit_time, exit_price=price,
                exit_reason=rng.choice(["signal", "stop_loss"]),
                pnl=pnl, commission=commission, return_pct=pnl / (size * entry_price) * 100,
                exit_order_id=client_order_id(strategy_id, symbol, exit_time, "signal"),
            )  # fmt: skip
            t = exit_time
        records.append(record)
        t += HOUR
    return records


def money(value: float) -> str:
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(value):,.2f}"


def stat(page: Page, label: str):
    return page.locator(f"div:has(> dt:text-is('{label}')) > dd")


def test_filters_live_in_the_url_pages_come_from_the_server_and_the_csv_holds_the_filter(logged_in: Page, db, redis):
    page = logged_in
    alpha = create_strategy(db, redis, spec_doc("sma_cross", name="Alpha trend"))
    beta = create_strategy(db, redis, spec_doc("sma_cross", name="Beta reversion"))
    records = (
        trade_records(alpha, "BTCUSDT", 70, 1, 61_000.0, 1)
        + trade_records(alpha, "ETHUSDT", 30, 0, 3_100.0, 2)
        + trade_records(beta, "BTCUSDT", 25, 1, 60_500.0, 3)
    )
    TradeLogRepository(db).upsert(records)
    btc_closed = [r for r in records if r["symbol"] == "BTCUSDT" and r["status"] == "closed"]
    assert len(records) == 127 and len(btc_closed) == 95

    page.goto("/trades")
    count = page.get_by_test_id("trade-count")
    expect(count).to_have_text("1–50 of 127 trades · page 1 of 3")
    expect(page.get_by_test_id("trade-row")).to_have_count(50)

    page.get_by_label("Symbol").fill("btcusdt")
    page.get_by_label("Symbol").press("Enter")
    page.wait_for_url(re.compile(r"/trades\?symbol=BTCUSDT$"))
    page.get_by_label("Status").select_option("closed")
    page.wait_for_url(re.compile(r"/trades\?symbol=BTCUSDT&status=closed$"))
    expect(count).to_have_text("1–50 of 95 trades · page 1 of 2")
    expect(page.get_by_test_id("trade-row").first).to_contain_text("BTCUSDT")

    page.get_by_role("link", name="Older →").click()
    page.wait_for_url(re.compile(r"status=closed&page=2$"))
    expect(count).to_have_text("51–95 of 95 trades · page 2 of 2")
    expect(page.get_by_test_id("trade-row")).to_have_count(45)
    page.go_back()
    page.wait_for_url(re.compile(r"/trades\?symbol=BTCUSDT&status=closed$"))
    expect(count).to_have_text("1–50 of 95 trades · page 1 of 2")

    # The address is enough to come back to the same view.
    page.goto("/trades?symbol=BTCUSDT&status=closed&page=2")
    expect(page.get_by_label("Symbol")).to_have_value("BTCUSDT")
    expect(page.get_by_label("Status")).to_have_value("closed")
    expect(count).to_have_text("51–95 of 95 trades · page 2 of 2")

    expect(stat(page, "Closed trades")).to_have_text("95")
    expect(stat(page, "Realised PnL")).to_have_text(f"{money(sum(r['pnl'] for r in btc_closed))} USDT")
    expect(page.get_by_role("figure", name=re.compile("Cumulative realised PnL of 95 closed trades"))).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"trades-btcusdt-closed-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 95
    assert {row["trade_id"] for row in rows} == {r["trade_id"] for r in btc_closed}
    assert {row["strategy"] for row in rows} == {"Alpha trend", "Beta reversion"}
    assert all(row["symbol"] == "BTCUSDT" and row["status"] == "closed" for row in rows)
    expect(page.get_by_test_id("toast").filter(has_text="Exported 95 trades")).to_be_visible()
    shot(page, "trades")

    # A strategy and a range of days narrow it further.
    page.get_by_label("Strategy").select_option(label="Beta reversion")
    page.wait_for_url(re.compile(rf"/trades\?strategy={beta}&symbol=BTCUSDT&status=closed$"))
    expect(count).to_have_text("1–25 of 25 trades · page 1 of 1")
    page.get_by_label("Opened from").fill("2024-03-03")
    page.wait_for_url(re.compile(r"from=2024-03-03$"))
    since = int(datetime(2024, 3, 3, tzinfo=UTC).timestamp() * 1000)
    expected = sum(1 for r in btc_closed if r["strategy_id"] == beta and r["entry_time"] >= since)
    assert 0 < expected < 25
    expect(count).to_have_text(f"1–{expected} of {expected} trades · page 1 of 1")

    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_url(re.compile(r"/trades$"))
    expect(count).to_have_text("1–50 of 127 trades · page 1 of 3")


def test_no_trades_says_where_they_come_from(logged_in: Page):
    logged_in.goto("/trades")
    expect(logged_in.get_by_text("No trades yet")).to_be_visible()
    expect(logged_in.get_by_role("link", name="Start a strategy on paper")).to_have_attribute("href", "/live")
    expect(logged_in.get_by_role("button", name="Export CSV")).to_be_disabled()
