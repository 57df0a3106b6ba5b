"""The system page: services, workers, queues and feed freshness from the real platform; and the display settings,
which apply to every page at once (local time shows on the trades journal, the dark theme everywhere)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import requests
from playwright.sync_api import Page, expect

from strategies.domain import Tick
from tests.celery_workers import wait_for
from tests.ui.conftest import Stack, shot
from tests.workers.conftest import create_strategy, send_ingest, spec_doc
from tickflow.storage import keys
from tickflow.storage.trade_logs import TradeLogRepository
from workers.ticks import encode_batch

KOLKATA = "Asia/Kolkata"  # UTC+05:30 all year: local time is visibly not UTC


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_services_workers_and_feeds_show_and_the_settings_apply_everywhere(
    logged_in: Page, stack: Stack, token: str, db, redis
):
    page = logged_in
    page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": KOLKATA})
    strategy_id = create_strategy(db, redis, spec_doc("sma_cross", name="Feed watcher", symbols=["BTCUSDT", "ETHUSDT"]))
    url = f"{stack.api}/api/v1/strategies/{strategy_id}/start"
    started = requests.post(url, json={"cash": 1000}, headers={"Authorization": f"Bearer {token}"})
    assert started.status_code == 200, started.text
    now = int(time.time() * 1000)
    # A tick two seconds old on BTCUSDT, ten minutes old on ETHUSDT, through the ingest queue as a feed sends them.
    send_ingest(encode_batch([Tick("BTCUSDT", now - 2_000, 60_000.0, 0.1), Tick("ETHUSDT", now - 600_000, 3_000.0, 1)]))
    wait_for(lambda: all(redis.exists(keys.last_tick(s)) for s in ("BTCUSDT", "ETHUSDT")), 10, "the ticks")
    opened = int(datetime(2024, 3, 1, 10, 0, tzinfo=UTC).timestamp() * 1000)
    TradeLogRepository(db).upsert([{
        "trade_id": f"{strategy_id}:BTCUSDT:{opened}", "rev": 0, "status": "open", "strategy_id": strategy_id,
        "symbol": "BTCUSDT", "timeframe": "1m", "mode": "paper", "run": opened, "side": "long", "size": 0.01,
        "entry_time": opened, "entry_price": 60_000.0, "entry_commission": 0.6, "stop": None, "target": None,
    }])  # fmt: skip

    page.get_by_role("link", name="System").click()
    page.wait_for_url("**/system")
    for service in ("redis", "mongodb", "celery", "broker"):
        expect(page.get_by_test_id(f"service-{service}")).to_have_attribute("data-state", "up")
    expect(page.get_by_test_id("service-celery")).to_contain_text("2 answered a ping")
    expect(page.get_by_test_id("service-redis")).to_contain_text(re.compile(r"probed \d+ s ago"))
    expect(page.get_by_test_id("worker-row")).to_have_count(2)
    expect(page.get_by_test_id("worker-row").filter(has_text="ingest, orders, strategy")).to_have_count(1)
    expect(page.get_by_test_id("queue-row").filter(has_text="backtests")).to_contain_text("yes")
    problems = page.get_by_role("alert").filter(has_text="1 problem")
    expect(problems).to_contain_text("ETHUSDT is stale: no tick for")  # ten minutes, on 1m: the feed is silent
    expect(page.get_by_test_id("outbox")).to_have_text("0 records waiting for MongoDB")
    fresh = page.get_by_test_id("freshness-row").filter(has_text="BTCUSDT")
    stale = page.get_by_test_id("freshness-row").filter(has_text="ETHUSDT")
    expect(fresh).to_contain_text("fresh")
    expect(stale).to_contain_text("stale")
    expect(stale).to_contain_text(re.compile(r"10m \d+s"))
    utc_tick = datetime.fromtimestamp((now - 2_000) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    expect(fresh.get_by_test_id("last-tick")).to_have_text(utc_tick)
    shot(page, "system")

    page.get_by_label(re.compile("^Local time")).check()
    expect(page.get_by_test_id("time-sample")).to_have_text(re.compile(r"UTC\+05:30$"))
    expect(fresh.get_by_test_id("last-tick")).to_have_text(re.compile(r" UTC\+05:30$"))

    # Elsewhere at once: the journal shows the trade opened at 10:00 UTC as 15:30 local time.
    page.get_by_role("link", name="Trades").click()
    page.wait_for_url("**/trades")
    expect(page.get_by_role("columnheader", name="Opened (local)")).to_be_visible()
    expect(page.get_by_test_id("trade-row")).to_contain_text("2024-03-01 15:30")

    page.get_by_role("link", name="System").click()
    light = background(page)
    page.get_by_label("Dark").check()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    assert background(page) != light
    page.reload()  # kept in this browser
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_label("Dark")).to_be_checked()
    expect(page.get_by_test_id("service-redis")).to_have_attribute("data-state", "up")
    expect(page.get_by_test_id("worker-row")).to_have_count(2)
    shot(page, "system-dark")
