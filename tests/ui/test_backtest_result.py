"""A backtest's result page: a queued run followed live to done (job events, no reload), then its stats, equity
against buy-and-hold, drawdown, candles with trade markers (a trade row centres the chart), CSV export, breakdowns,
monthly heatmap and PnL histogram; cancelling, failing and deleting runs; and a 20,000-bar chart's draw time."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from backtests.runs import resolve_target
from strategies.examples import load_example
from tasks.backtests import QUEUE
from tasks.backtests import run as run_task
from tests.ui.conftest import Stack, shot
from tickflow.storage.backtest_results import BacktestRepository
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy, StrategyRepository
from tickflow.synthetic import generate_candles

SYMBOL = "BTCUSDT"
TIMEFRAME = "1h"
BARS = 2_000
DONE = 60_000  # ms: a backtest of a few thousand bars takes well under a second, the stack's startup aside
STAGES = ["queued", "claimed", "loading", "running", "storing", "done"]


@pytest.fixture
def strategy(db, redis) -> Strategy:
    """The SMA-cross example (hourly, on BTCUSDT) and 2,000 hourly candles of BTCUSDT from 2024-01-01, stored."""
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(BARS, TIMEFRAME, seed=3))
    return StrategyRepository(db, redis).create(load_example("sma_cross"))


def _api(stack: Stack, token: str, method: str, path: str, **options) -> requests.Response:
    return requests.request(
        method, f"{stack.api}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **options
    )


def _launch(stack: Stack, token: str, strategy: Strategy, **body) -> str:
    response = _api(stack, token, "POST", "/backtests", json={"strategy_id": strategy.id, **body})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _queued(db, redis, strategy: Strategy, **request) -> dict:
    """A run stored as POST /backtests stores it, its task not sent yet: it waits in ``queued`` as behind a
    busy queue, until ``_send`` sends it."""
    target = resolve_target(StrategyRepository(db, redis), strategy.id, **request)
    return BacktestRepository(db).create({**target, "task_id": f"ui-test-{strategy.id}-{len(request)}"})


def _send(doc: dict) -> None:
    run_task.apply_async((str(doc["_id"]),), task_id=doc["task_id"], queue=QUEUE)


def _stream_open(page: Page) -> None:
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))


def _wait_drawn(page: Page, candles: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('[data-testid=result-chart]')?.dataset.drawn === String(n)",
        arg=candles,
        polling=100,
        timeout=10_000,
    )


def _state(page: Page):
    return page.get_by_test_id("run-state")


def test_a_queued_run_moves_live_to_done_and_shows_its_results(strategy, logged_in: Page, db, redis, stack, token):
    page = logged_in
    doc = _queued(db, redis, strategy)
    run_id = str(doc["_id"])
    page.goto(f"/backtests/{run_id}")
    page.evaluate("window.__sameDocument = true")  # a full load would wipe it out

    # Queued: the identity, the stages to come, and Cancel (not Delete).
    expect(_state(page)).to_have_attribute("data-state", "queued")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SMA cross 10/20")
    expect(page.get_by_test_id("run-identity")).to_contain_text(f"{SYMBOL} · {TIMEFRAME}")
    expect(page.get_by_test_id("run-identity")).to_contain_text("fast=10, slow=20")
    expect(page.get_by_test_id("run-stages")).to_have_attribute("data-stage", "queued")
    expect(page.get_by_test_id("run-stages").locator("li[data-status=current]")).to_have_attribute(
        "data-stage", "queued"
    )
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    _stream_open(page)
    shot(page, "backtest-result-queued")

    # A worker takes it: the stages move on the stream, and the results replace them, without a reload.
    _send(doc)
    expect(_state(page)).to_have_attribute("data-state", "done", timeout=DONE)
    assert page.evaluate("window.__sameDocument === true")
    seen = _state(page).get_attribute("data-seen").split(",")
    assert seen[0] == "queued" and seen[-1] == "done", seen
    assert [stage for stage in STAGES if stage in seen] == seen, f"stages out of order: {seen}"

    run = _api(stack, token, "GET", f"/backtests/{run_id}").json()
    stats = run["stats"]
    n_trades = run["n_trades"]
    assert n_trades > 10

    # Stats, each with its unit.
    expect(page.get_by_test_id("stat-return_pct")).to_contain_text(re.compile(r"[+−]\d+\.\d\d %"))
    expect(page.get_by_test_id("stat-final_equity")).to_contain_text(re.compile(r"\d{1,3}(,\d{3})*\.\d\d USDT"))
    expect(page.get_by_test_id("stat-max_drawdown_pct")).to_contain_text(re.compile(r"−\d+\.\d\d %"))
    expect(page.get_by_test_id("stat-n_trades")).to_contain_text(str(n_trades))
    expect(page.get_by_test_id("stat-avg_holding_time")).to_contain_text(re.compile(r"\d+[dhms]"))
    expect(page.get_by_test_id("stat-sharpe")).to_contain_text(re.compile(r"−?\d+\.\d\d"))

    # Equity against buy and hold, drawdown underwater.
    expect(page.get_by_test_id("equity-chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("equity-legend")).to_contain_text("Buy & hold")
    expect(page.get_by_test_id("equity-legend")).to_contain_text("Drawdown")

    # Candles with the indicators and the trades as markers.
    chart = page.get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-drawn", str(BARS))
    expect(chart.locator("canvas").first).to_be_visible()
    assert int(chart.get_attribute("data-markers")) >= 2 * n_trades
    expect(page.get_by_test_id("indicator-legend")).to_contain_text("fast · SMA(timeperiod=10)")
    expect(page.get_by_test_id("indicator-legend")).to_contain_text("slow · SMA(timeperiod=20)")

    # The trades table, a page of them; clicking one centres the chart on it.
    rows = page.get_by_test_id("trade-row")
    expect(rows).to_have_count(min(50, n_trades))
    expect(page.get_by_test_id("trades-count")).to_contain_text(f"of {n_trades:,}")
    page.wait_for_function("document.querySelector('[data-testid=result-chart]').dataset.visibleFrom")
    before = (int(chart.get_attribute("data-visible-from")), int(chart.get_attribute("data-visible-to")))
    first_page = _api(stack, token, "GET", f"/backtests/{run_id}/trades", params={"per_page": 50}).json()["items"]
    picked = first_page[20]
    centre = (picked["entry_time"] + picked["exit_time"]) // 2
    rows.nth(20).click()
    expect(page.get_by_test_id("centred-trade")).to_contain_text("Centred on trade #21")
    page.wait_for_function(
        "([from, to]) => { const d = document.querySelector('[data-testid=result-chart]').dataset;"
        " return +d.visibleFrom !== from || +d.visibleTo !== to; }",
        arg=list(before),
    )
    shown = (int(chart.get_attribute("data-visible-from")), int(chart.get_attribute("data-visible-to")))
    assert shown[0] <= centre <= shown[1], (shown, centre)
    assert shown[1] - shown[0] < before[1] - before[0]  # zoomed in around it

    # Keyboard: Enter on another row centres on that one.
    rows.nth(3).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("centred-trade")).to_contain_text("Centred on trade #4")

    # Every trade as CSV.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(rf"backtest-sma-cross-10-20-btcusdt-1h-{run_id[:8]}-trades\.csv", download.suggested_filename)
    exported = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    open_trades = run["open_trades"]
    assert len(exported) == n_trades + len(open_trades)
    assert [row["number"] for row in exported[:3]] == ["1", "2", "3"]
    assert float(exported[20]["pnl"]) == pytest.approx(picked["pnl"])
    assert sum(float(row["pnl"]) for row in exported if row["is_open"] == "false") == pytest.approx(
        stats["final_equity"] - run["cash"] - sum(trade["pnl"] for trade in open_trades), rel=1e-6
    )
    expect(
        page.get_by_test_id("toast").filter(has_text=f"Exported {n_trades + len(open_trades)} trade")
    ).to_be_visible()

    # Long/short and exit reasons, the PnL histogram, the monthly heatmap.
    sides = page.get_by_test_id("side-breakdown")
    expect(sides.locator("tr[data-key=all]")).to_contain_text(str(n_trades))
    expect(sides.locator("tr[data-key=long]")).to_be_visible()
    expect(sides.locator("tr[data-key=short]")).to_be_visible()
    expect(page.get_by_test_id("reason-breakdown").locator("tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("pnl-histogram").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("monthly-heatmap")).to_have_attribute("data-years", "2024")
    expect(page.get_by_test_id("monthly-heatmap").locator("canvas").first).to_be_visible()
    # Three months of bars (January to late March) and the year's total.
    expect(page.get_by_test_id("monthly-heatmap")).to_have_attribute("data-cells", "4")

    # The spec it ran, read-only, folded until asked for.
    spec = page.get_by_test_id("spec-snapshot")
    expect(spec.locator("pre")).not_to_be_visible()
    spec.locator("summary").click()
    expect(spec.locator("pre")).to_contain_text('"timeframe": "1h"')
    spec.locator("summary").click()
    shot(page, "backtest-result")

    # The same page in the dark theme.
    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_test_id("result-chart")).to_have_attribute("data-drawn", str(BARS))
    expect(page.get_by_test_id("monthly-heatmap").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("pnl-histogram").locator("canvas").first).to_be_visible()
    shot(page, "backtest-result-dark")


def test_cancel_a_queued_run_see_a_failed_one_and_delete_a_finished_one(
    logged_in: Page, db, redis, stack, token, strategy
):
    page = logged_in
    # Cancel: a run waiting in the queue.
    doc = _queued(db, redis, strategy, params={"fast": 5})
    page.goto(f"/backtests/{doc['_id']}")
    expect(_state(page)).to_have_attribute("data-state", "queued")
    page.get_by_role("button", name="Cancel run").click()
    expect(_state(page)).to_have_attribute("data-state", "cancelled")
    expect(page.get_by_text("This run was cancelled before it finished")).to_be_visible()
    assert BacktestRepository(db).get(doc["_id"])["state"] == "cancelled"
    _send(doc)  # its task arrives after all: the worker finds it cancelled and leaves it so

    # Failed: no candles in its range; the error says why, the stages where.
    failed = _launch(stack, token, strategy, start="2030-01-01T00:00:00Z")
    page.goto(f"/backtests/{failed}")
    expect(_state(page)).to_have_attribute("data-state", "failed", timeout=DONE)
    expect(page.get_by_test_id("run-error")).to_contain_text("no BTCUSDT 1h candles")
    expect(page.get_by_test_id("run-stages").locator("li[data-status=failed]")).to_have_attribute(
        "data-stage", "loading"
    )
    shot(page, "backtest-result-failed")

    # Delete: a done run, after confirming (and not when the dialog is cancelled).
    done = _launch(stack, token, strategy)
    page.goto(f"/backtests/{done}")
    expect(_state(page)).to_have_attribute("data-state", "done", timeout=DONE)
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete this backtest?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert _api(stack, token, "GET", f"/backtests/{done}").status_code == 200
    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/backtests$"))
    expect(page.get_by_test_id("toast").filter(has_text="Backtest deleted")).to_be_visible()
    assert _api(stack, token, "GET", f"/backtests/{done}").status_code == 404
    expect(page.get_by_test_id("run-row")).to_have_count(2)  # the cancelled and the failed run stay
    assert BacktestRepository(db).get(doc["_id"])["state"] == "cancelled"


def test_a_run_whose_entries_were_all_skipped_says_why(logged_in: Page, db, redis, stack, token):
    page = logged_in
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(BARS, TIMEFRAME, seed=3))
    doc = {**load_example("sma_cross"), "name": "SMA cross, coarse lots", "sizing": {"step": 1000}}
    strategy = StrategyRepository(db, redis).create(doc)  # 1,000 units a lot: 10,000 USDT never buys one
    run_id = _launch(stack, token, strategy)
    page.goto(f"/backtests/{run_id}")
    expect(_state(page)).to_have_attribute("data-state", "done", timeout=DONE)
    skipped = _api(stack, token, "GET", f"/backtests/{run_id}").json()["skipped"]
    assert skipped["total"] > 0

    expect(page.get_by_text("This run closed no trade")).to_be_visible()
    expect(page.get_by_test_id("stat-n_trades")).to_contain_text("0")
    expect(page.get_by_test_id("stat-win_rate_pct")).to_contain_text("—")
    expect(page.get_by_role("button", name="Export CSV")).to_be_disabled()
    expect(page.get_by_text("No closed trade to break down")).to_be_visible()
    expect(page.get_by_text("No closed trade to plot")).to_be_visible()
    card = page.get_by_test_id("skipped")
    expect(card).to_contain_text(f"Size below the quantity step: {skipped['total']:,}")
    expect(card.locator("tbody tr")).to_have_count(len(skipped["first"]))
    expect(page.get_by_test_id("result-chart")).to_have_attribute("data-markers", "0")
    shot(page, "backtest-result-no-trades")


def test_every_one_of_20000_bars_can_be_drawn_and_a_trade_row_centres_the_chart_on_it(
    logged_in: Page, db, redis, stack, token
):
    page = logged_in
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(20_000, TIMEFRAME, seed=5))
    strategy = StrategyRepository(db, redis).create(load_example("sma_cross"))
    run_id = _launch(stack, token, strategy)

    # Opened from the runs list, first a chart's worth: under 2,000 candles, each merging 10 or 11 bars.
    page.goto("/backtests")
    row = page.get_by_test_id("run-row")
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "done", timeout=DONE)
    row.get_by_role("link", name="SMA cross 10/20").click()
    page.wait_for_url(f"**/backtests/{run_id}")
    expect(_state(page)).to_have_attribute("data-state", "done")
    chart = page.get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-bars", "20000")
    expect(chart).to_have_attribute("data-drawn", re.compile(r"^1\d{3}$"))  # periods of whole bars, aligned
    expect(page.get_by_test_id("chart-detail-text")).to_contain_text(re.compile(r"each merging 1[01] bars of 1h"))

    # Zoomed in, the view loads in finer candles; a trade outside it brings the whole run back, centred on it.
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    for _ in range(16):  # each notch zooms in by about a tenth
        page.mouse.wheel(0, -400)
    page.wait_for_function(
        "() => { const d = document.querySelector('[data-testid=result-chart]').dataset;"
        " return +d.visibleTo - +d.visibleFrom < 0.5 * (+d.bars) * 3600000; }"
    )
    merged_period = int(chart.get_attribute("data-period-ms"))
    page.get_by_role("button", name="Full detail of this view").click()
    expect(page.get_by_role("button", name="Whole run")).to_be_visible()
    page.wait_for_function(
        "p => +document.querySelector('[data-testid=result-chart]').dataset.periodMs < p", arg=merged_period
    )
    zoomed = chart.get_attribute("data-visible-from"), chart.get_attribute("data-visible-to")
    first = _api(stack, token, "GET", f"/backtests/{run_id}/trades", params={"per_page": 1}).json()["items"][0]
    centre = (first["entry_time"] + first["exit_time"]) // 2
    assert not int(zoomed[0]) <= centre <= int(zoomed[1])
    page.get_by_test_id("trade-row").first.click()
    expect(page.get_by_role("button", name="Whole run")).to_have_count(0)
    expect(chart).to_have_attribute("data-period-ms", str(merged_period))
    page.wait_for_function(
        "c => { const d = document.querySelector('[data-testid=result-chart]').dataset;"
        " return +d.visibleFrom <= c && c <= +d.visibleTo && +d.visibleTo - +d.visibleFrom < 200 * +d.periodMs; }",
        arg=centre,
    )

    # Then every bar: the choice goes into the URL (its speed is bench/ui.py's to measure, not a test's).
    page.get_by_label("Chart detail").select_option("20000")
    page.wait_for_url(re.compile(r"\?bars=20000$"))
    _wait_drawn(page, 20_000)
    page.reload()
    _wait_drawn(page, 20_000)
