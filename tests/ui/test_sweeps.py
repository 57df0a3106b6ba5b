"""Sweeps: a grid defined in the form (a range and a list, the combinations counted as typed, the API's 422 at its
field), run by the real backtest worker and followed to done by `job` events; the heatmap over two params with the
best cell marked; a cell clicked and run as a backtest, landing on the run's page; the sweeps list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backtests.sweeps import plan_sweep
from strategies.examples import load_example
from tasks.backtests import QUEUE, sweep_chunk
from tests.ui.conftest import Stack, shot
from tickflow.storage.backtest_results import SweepRepository
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy, StrategyRepository
from tickflow.synthetic import generate_candles

SYMBOL = "BTCUSDT"
TIMEFRAME = "1h"
BARS = 2_000
DONE = 60_000  # ms: nine backtests of 2,000 bars take well under a second, the stack's startup aside
# The heatmap plot's margins in pixels (frontend/src/components/sweeps/heatmap.ts, HEATMAP_GRID).
GRID_LEFT, GRID_RIGHT, GRID_TOP, GRID_BOTTOM = 72, 110, 16, 56


@pytest.fixture
def strategy(db, redis) -> Strategy:
    """The SMA-cross example (hourly, on BTCUSDT, params fast and slow) and 2,000 hourly candles of BTCUSDT, stored."""
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(BARS, TIMEFRAME, seed=3))
    return StrategyRepository(db, redis).create(load_example("sma_cross"))


def painted(page: Page) -> None:
    """Wait for the heatmap's chart to be made (ECharts loads on demand), then two animation frames: a canvas
    chart just (re)drawn is on screen."""
    page.get_by_test_id("heatmap").locator("[role=figure][data-ready=true]").wait_for()
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def click_cell(page: Page, x: int, y: int, columns: int, rows: int) -> None:
    """Click the heatmap's cell in column ``x`` and row ``y`` (rows count up from the bottom)."""
    box = page.get_by_test_id("heatmap").get_by_role("figure").bounding_box()
    assert box is not None
    width = (box["width"] - GRID_LEFT - GRID_RIGHT) / columns
    height = (box["height"] - GRID_TOP - GRID_BOTTOM) / rows
    page.mouse.click(box["x"] + GRID_LEFT + (x + 0.5) * width, box["y"] + GRID_TOP + (rows - y - 0.5) * height)


def test_a_sweep_defined_in_the_form_runs_to_done_and_a_heatmap_cell_runs_as_a_backtest(
    strategy: Strategy, logged_in: Page, stack: Stack, db
):
    page = logged_in
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sweeps").click()
    expect(page.get_by_text("No sweeps yet")).to_be_visible()
    page.get_by_role("link", name="New sweep").first.click()
    page.wait_for_url("**/sweeps/new")

    # The strategy's params become rows; the combinations are counted as values are typed.
    expect(page.get_by_label("Strategy")).to_have_value(strategy.id)
    expect(page.get_by_test_id("stored-range")).to_contain_text("2,000 candles")
    expect(page.get_by_label("Start date (UTC)")).to_have_value("2024-01-01")
    expect(page.get_by_label("End date (UTC)")).to_have_value("2024-03-24")
    expect(page.get_by_test_id("grid-row")).to_have_count(2)
    count = page.get_by_test_id("combo-count")
    expect(count).to_contain_text("No param varies yet")
    page.get_by_label("fast").fill("5:15:5")
    expect(count).to_contain_text("3 combinations before the constraint")
    page.get_by_label("slow").fill("20, 30, 40, 40")
    expect(count).to_contain_text("3 × 3 = 9 combinations before the constraint")
    page.get_by_label("slow").fill("20, 30 x")
    expect(page.locator('[id="grid.slow-error"]')).to_have_count(0)  # checked on submit, counted at once
    expect(count).to_contain_text("Fix the values marked above")
    page.get_by_label("slow").fill("20, 30, 40")
    page.get_by_label("Starting cash (quote currency)").fill("5000")

    # The API's 422 shows at its field.
    page.get_by_label("Constraint (optional)").fill("$fast < $slw")
    page.get_by_role("button", name="Start sweep").click()
    expect(page.locator("#constraint-error")).to_contain_text("slw")
    expect(page.get_by_label("Constraint (optional)")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Constraint (optional)").fill("$fast < $slow")
    page.get_by_label("Objective").select_option("return_pct")
    shot(page, "sweep-new")
    page.get_by_role("button", name="Start sweep").click()

    # Followed to done by job events: progress by chunks, the ranking, the heatmap with its best cell.
    page.wait_for_url(re.compile(r"/sweeps/[0-9a-f]{24}$"))
    sweep_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="Sweep of SMA cross 10/20")).to_be_visible()
    expect(page.get_by_test_id("sweep-state")).to_have_text("done", timeout=DONE)
    sweep = db.sweeps.find_one({})
    chunks = sweep["chunks_total"]
    expect(page.get_by_test_id("sweep-chunks")).to_contain_text(f"{chunks} of {chunks} chunks done")
    expect(page.get_by_test_id("sweep-chunks")).to_contain_text("9 of 9 parameter sets")
    expect(page.get_by_role("progressbar", name="Chunks done")).to_have_attribute("aria-valuenow", str(chunks))
    expect(page.get_by_test_id("result-row")).to_have_count(9)
    expect(page.get_by_test_id("result-rank").first).to_have_text("1")
    expect(page.get_by_test_id("ranking-partial")).to_have_count(0)
    heatmap = page.get_by_test_id("heatmap")
    expect(heatmap).to_have_attribute("data-x-count", "3")
    expect(heatmap).to_have_attribute("data-y-count", "3")
    expect(heatmap.get_by_role("figure")).to_have_attribute("aria-label", "Return over fast (across) and slow (up)")
    expect(page.get_by_test_id("heatmap-partial")).to_have_count(0)
    expect(page.get_by_test_id("cell-value")).to_contain_text("★ best")
    expect(page.get_by_test_id("sweep-best")).to_contain_text("Best: fast=")

    # The rows sort on the page; the API ranked them by the objective.
    page.get_by_role("button", name="fast", exact=True).click()
    expect(page.get_by_role("columnheader", name="fast")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_test_id("result-row").first.locator("td").nth(1)).to_have_text("15")
    expect(page.get_by_test_id("result-row").last.locator("td").nth(1)).to_have_text("5")

    # A cell clicked: fast = 10 (column 1), slow = 40 (row 2 from the bottom), then run as a backtest.
    click_cell(page, 1, 2, 3, 3)
    expect(page.locator("#cell-x")).to_have_value("1")
    expect(page.locator("#cell-y")).to_have_value("2")
    expect(page.get_by_test_id("cell-value")).to_contain_text("Return:")
    painted(page)
    shot(page, "sweep-result")
    page.get_by_test_id("cell-backtest").click()
    page.wait_for_url(re.compile(r"/backtests/[0-9a-f]{24}$"))
    run = db.backtest_results.find_one({})
    assert run is not None
    assert run["params"] == {"fast": 10, "slow": 40}
    assert (run["symbol"], run["cash"]) == (SYMBOL, 5000)
    assert page.url.endswith(f"/backtests/{run['_id']}")

    # The sweeps list shows it, done, with its best objective.
    page.goto("/sweeps")
    row = page.get_by_test_id("sweep-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("sweep-row-state")).to_have_attribute("data-state", "done")
    expect(row).to_contain_text("Return")
    expect(row.get_by_role("link", name="SMA cross 10/20")).to_have_attribute("href", f"/sweeps/{sweep_id}")
    shot(page, "sweeps")

    # In the dark theme too (the page as a user who chose it sees it; axe checks its contrast).
    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.goto(f"/sweeps/{sweep_id}")
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    expect(page.get_by_test_id("heatmap")).to_have_attribute("data-x-count", "3")
    painted(page)
    shot(page, "sweep-result-dark")


def test_a_running_sweep_is_followed_chunk_by_chunk_with_its_results_so_far_flagged(
    strategy: Strategy, logged_in: Page, db, redis
):
    """A sweep stored with its chunks not yet sent: its page shows it queued; each chunk sent to the worker then
    moves it on (job events), the heatmap and ranking filling in as partial results until the last one."""
    page = logged_in
    fields, chunks = plan_sweep(
        StrategyRepository(db, redis), strategy.id, grid={"fast": [5, 10], "slow": [20, 40]}, chunk_size=2
    )
    sweep, chunk_ids = SweepRepository(db).create(fields, chunks)
    assert len(chunk_ids) == 2
    page.goto(f"/sweeps/{sweep['_id']}")
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_test_id("sweep-state")).to_have_text("queued")
    expect(page.get_by_test_id("sweep-chunks")).to_contain_text("0 of 2 chunks done")
    expect(page.get_by_text("No results yet")).to_be_visible()
    expect(page.get_by_test_id("ranking-partial")).to_be_visible()
    expect(page.get_by_test_id("heatmap-partial")).to_contain_text("Partial: 0 of 2 chunks done")

    sweep_chunk.si(str(chunk_ids[0])).apply_async(queue=QUEUE)
    expect(page.get_by_test_id("sweep-state")).to_have_text("running", timeout=DONE)
    expect(page.get_by_test_id("sweep-chunks")).to_contain_text("1 of 2 chunks done")
    expect(page.get_by_test_id("result-row")).to_have_count(2)
    expect(page.get_by_test_id("results-count")).to_contain_text("2 results so far")
    expect(page.get_by_test_id("heatmap-partial")).to_contain_text("Partial: 1 of 2 chunks done")
    expect(page.get_by_role("progressbar", name="Chunks done")).to_have_attribute("aria-valuenow", "1")
    painted(page)
    shot(page, "sweep-running")

    sweep_chunk.si(str(chunk_ids[1])).apply_async(queue=QUEUE)
    expect(page.get_by_test_id("sweep-state")).to_have_text("done", timeout=DONE)
    expect(page.get_by_test_id("sweep-chunks")).to_contain_text("2 of 2 chunks done")
    expect(page.get_by_test_id("result-row")).to_have_count(4)
    expect(page.get_by_test_id("heatmap-partial")).to_have_count(0)
    expect(page.get_by_test_id("ranking-partial")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")
