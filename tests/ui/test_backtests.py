"""Backtests: launching one from the form, following runs to done in the list (job events), API errors at
their fields, and comparing two runs."""

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from strategies.examples import load_example
from tests.ui.conftest import Stack, shot
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy, StrategyRepository
from tickflow.synthetic import generate_candles

SYMBOL = "BTCUSDT"
TIMEFRAME = "1h"
BARS = 2_000
DONE = 60_000  # ms: a backtest of 2,000 bars takes well under a second, the stack's startup aside


@pytest.fixture
def strategy(db, redis) -> Strategy:
    """The SMA-cross example (hourly, on BTCUSDT) and 2,000 hourly candles of BTCUSDT from 2024-01-01, stored."""
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(BARS, TIMEFRAME, seed=3))
    return StrategyRepository(db, redis).create(load_example("sma_cross"))


def _launch(stack: Stack, token: str, strategy: Strategy, **body) -> str:
    response = requests.post(
        f"{stack.api}/api/v1/backtests",
        json={"strategy_id": strategy.id, **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _mark_no_reload(page: Page) -> None:
    """A marker a full page load would wipe out: checked again at the end."""
    page.evaluate("window.__sameDocument = true")


def _still_same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_a_backtest_launched_from_the_form_runs_to_done(strategy: Strategy, logged_in: Page):
    page = logged_in
    _mark_no_reload(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Backtests").click()
    expect(page.get_by_text("No backtests yet")).to_be_visible()
    page.get_by_role("link", name="New backtest").first.click()
    page.wait_for_url("**/backtests/new")

    # Prefilled from the strategy and the stored candles.
    expect(page.get_by_label("Strategy")).to_have_value(strategy.id)
    expect(page.get_by_label("Symbol")).to_have_value(SYMBOL)
    expect(page.get_by_test_id("stored-range")).to_contain_text("2024-01-01 00:00 UTC")
    expect(page.get_by_test_id("stored-range")).to_contain_text("2,000 candles")
    expect(page.get_by_label("Start date (UTC)")).to_have_value("2024-01-01")
    expect(page.get_by_label("End date (UTC)")).to_have_value("2024-03-24")
    expect(page.get_by_label("fast")).to_have_value("10")
    expect(page.get_by_label("slow")).to_have_value("20")

    page.get_by_label("Start date (UTC)").fill("2024-01-15")
    page.get_by_label("fast").fill("7")
    page.get_by_label("Starting cash (quote currency)").fill("5000")
    shot(page, "backtests-new")
    page.get_by_role("button", name="Launch backtest").click()
    expect(page.get_by_test_id("launched")).to_contain_text(
        f"Backtest launched: SMA cross 10/20 on {SYMBOL} {TIMEFRAME}"
    )
    expect(page.get_by_test_id("launched-state")).to_have_text("done", timeout=DONE)
    expect(page.get_by_test_id("launched-result")).to_contain_text(re.compile(r"Return [+−]\d+\.\d\d %"))

    page.get_by_role("link", name="See all runs").click()
    page.wait_for_url(re.compile(r"/backtests$"))
    row = page.get_by_test_id("run-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "done", timeout=DONE)
    expect(row).to_contain_text(re.compile(r"[+−]\d+\.\d\d %"))  # its return, once done
    expect(row).to_contain_text("SMA cross 10/20")
    assert _still_same_document(page)


def test_the_runs_list_follows_a_new_run_to_done_without_reloading(
    logged_in: Page, stack: Stack, token: str, strategy: Strategy
):
    page = logged_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Backtests").click()
    expect(page.get_by_text("No backtests yet")).to_be_visible()
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))
    _mark_no_reload(page)

    _launch(stack, token, strategy, params={"fast": 5})  # from elsewhere: the list hears of it on the stream

    row = page.get_by_test_id("run-row")
    expect(row).to_have_count(1, timeout=DONE)
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "done", timeout=DONE)
    expect(row).to_contain_text(re.compile(r"[+−]\d+\.\d\d %"))
    assert _still_same_document(page)

    # Filters go into the URL, and a filter nothing matches says so.
    page.get_by_label("State").select_option("failed")
    page.wait_for_url(re.compile(r"/backtests\?state=failed$"))
    expect(page.get_by_text("No run matches these filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").first.click()
    page.wait_for_url(re.compile(r"/backtests$"))
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    shot(page, "backtests")


def test_bad_fields_show_their_messages_the_apis_included(strategy: Strategy, logged_in: Page):
    page = logged_in
    page.goto("/backtests/new")
    expect(page.get_by_label("fast")).to_have_value("10")

    # Checked in the page: dates outside the stored candles, an end before the start.
    page.get_by_label("Start date (UTC)").fill("2023-12-01")
    page.get_by_label("End date (UTC)").fill("2023-11-30")
    page.get_by_role("button", name="Launch backtest").click()
    expect(page.locator("#start-error")).to_have_text("The stored candles start on 2024-01-01")
    expect(page.locator("#end-error")).to_contain_text("The stored candles start on 2024-01-01")

    # Checked by the API: a period of 3.5 bars is no whole number; its 422 lands at the param.
    page.get_by_label("Start date (UTC)").fill("2024-01-02")
    page.get_by_label("End date (UTC)").fill("2024-02-01")
    page.get_by_label("fast").fill("3.5")
    page.get_by_role("button", name="Launch backtest").click()
    expect(page.locator("[id='params.fast-error']")).to_contain_text("must be a whole number, got $fast = 3.5")
    expect(page.get_by_label("fast")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#start-error")).to_have_count(0)
    expect(page.get_by_test_id("launched")).to_have_count(0)
    shot(page, "backtests-new-errors")


def test_two_done_runs_compare_side_by_side_with_the_best_marked(
    logged_in: Page, stack: Stack, token: str, strategy: Strategy
):
    page = logged_in
    first = _launch(stack, token, strategy, params={"fast": 5, "slow": 30})
    second = _launch(stack, token, strategy, params={"fast": 12, "slow": 26}, cash=20_000)
    page.goto("/backtests")
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index).get_by_test_id("run-state")).to_have_attribute("data-state", "done", timeout=DONE)

    expect(page.get_by_test_id("compare")).to_be_disabled()
    for index in range(2):
        rows.nth(index).get_by_role("checkbox").check()
    page.get_by_test_id("compare").click()
    page.wait_for_url(re.compile(r"/backtests/compare\?ids="))
    assert set(page.url.split("ids=")[1].split(",")) == {first, second}

    chart = page.get_by_test_id("compare-chart")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("compare-legend").get_by_role("listitem")).to_have_count(2)

    # The best return is the higher one, marked in that run's column; trades have no better side.
    runs = {
        run_id: requests.get(
            f"{stack.api}/api/v1/backtests/{run_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        for run_id in (first, second)
    }
    header_links = (
        page.get_by_test_id("compare-stats")
        .locator("thead a")
        .evaluate_all("links => links.map(link => link.getAttribute('href').split('/').pop())")
    )
    assert sorted(header_links) == sorted(runs)
    returns = [runs[run_id]["stats"]["return_pct"] for run_id in header_links]
    assert returns[0] != returns[1]
    best = returns.index(max(returns))
    cells = page.get_by_test_id("stat-return_pct").locator("td")
    expect(cells.nth(best)).to_have_attribute("data-best", "true")
    expect(cells.nth(1 - best)).not_to_have_attribute("data-best", "true")
    expect(cells.nth(best)).to_contain_text("%")
    expect(page.get_by_test_id("stat-n_trades").locator("td[data-best]")).to_have_count(0)
    shot(page, "backtests-compare")

    # The same page in the dark theme, as a user who chose it sees it.
    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_test_id("compare-chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("stat-return_pct").locator("td[data-best]")).to_have_count(1)
    shot(page, "backtests-compare-dark")
