"""Strategies: the list with live badges, and the editor (JSON checked as you type, params form,
indicator picker, save with If-Match and its conflict dialog, backtest, start live, delete)."""

from __future__ import annotations

import json
import re

import requests
from bson import ObjectId
from playwright.sync_api import Page, expect

from strategies.examples import load_example
from tests.ui.conftest import Stack, shot
from tickflow.storage.candles import CandleStore
from tickflow.storage.events import publish
from tickflow.storage.schema import BACKTEST_RESULTS, STRATEGIES
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles

SPEC = load_example("sma_cross")


def editor(page: Page):
    return page.get_by_role("textbox", name="Strategy spec (JSON)")


def replace_spec(page: Page, text: str) -> None:
    """Select everything in the JSON editor and type ``text`` over it (as a paste or an input method would)."""
    editor(page).click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)


def marked(page: Page) -> str:
    """The text the editor underlines as wrong."""
    return "".join(page.locator(".cm-lintRange-error").all_text_contents())


def api(stack: Stack, token: str, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{stack.api}/api/v1{path}", headers=headers, timeout=10, **kwargs)


def open_strategy(page: Page, strategy_id: str) -> None:
    page.goto(f"/strategies/{strategy_id}")
    expect(page.get_by_test_id("check-status")).to_have_text(re.compile("Valid"))


def test_create_a_strategy_typing_its_spec_with_an_error_marked_until_fixed(logged_in: Page, db):
    page = logged_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategies").click()
    empty = page.get_by_test_id("empty-state").filter(has_text="No strategies yet")
    empty.get_by_role("link", name="New strategy").click()
    page.wait_for_url("**/strategies/new")
    # The template is valid as it stands.
    expect(page.get_by_test_id("check-status")).to_have_text("Valid · warm-up 20 bars")

    spec = {**SPEC, "name": "Trend follower", "timeframe": "7m"}
    replace_spec(page, json.dumps(spec, indent=2))
    expect(page.get_by_test_id("check-status")).to_have_text("1 problem")
    expect(page.get_by_test_id("problems")).to_contain_text("unknown timeframe '7m'")
    assert marked(page) == '"timeframe": "7m"'

    # A JSON syntax error is marked where it is, without asking the API.
    replace_spec(page, json.dumps(spec, indent=2)[:-2] + ",\n}")
    expect(page.get_by_test_id("check-status")).to_have_text("JSON syntax error")
    expect(page.get_by_test_id("problems")).to_contain_text("a comma before '}' is not allowed")

    # Fixed: the marks go, and the resolved indicators show with their panes.
    replace_spec(page, json.dumps({**spec, "timeframe": "4h"}, indent=2))
    expect(page.get_by_test_id("check-status")).to_have_text("Valid · warm-up 20 bars")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.get_by_test_id("problems")).to_have_count(0)
    expect(page.get_by_test_id("resolved-indicators")).to_contain_text("SMA(timeperiod=10)")
    expect(page.get_by_test_id("resolved-indicators")).to_contain_text("price pane")

    page.get_by_role("button", name="Create strategy").click()
    page.wait_for_url(re.compile(r"/strategies/[0-9a-f]{24}$"))
    expect(page.get_by_test_id("strategy-state")).to_contain_text("Version 1")
    stored = db[STRATEGIES].find_one({"name": "Trend follower"})
    assert stored is not None and stored["spec"]["timeframe"] == "4h"
    assert page.url.endswith(str(stored["_id"]))
    editor(page).press("ControlOrMeta+Home")
    shot(page, "strategy-editor")


def test_a_taken_name_and_an_invalid_save_show_at_their_paths(logged_in: Page, db, redis):
    StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    page.goto("/strategies/new")
    expect(page.get_by_test_id("check-status")).to_have_text(re.compile("Valid"))
    replace_spec(page, json.dumps(SPEC, indent=2))
    expect(page.get_by_test_id("check-status")).to_have_text(re.compile("Valid"))
    page.get_by_role("button", name="Create strategy").click()
    # Only the store knows the name is taken: the 409 is marked at "name".
    expect(page.get_by_test_id("problems")).to_contain_text("name")
    expect(page.get_by_role("alert").filter(has_text="Not saved")).to_be_visible()
    assert marked(page) == f'"name": "{SPEC["name"]}"'
    assert db[STRATEGIES].count_documents({}) == 1

    # Saved before the check came back: the store's 422 shows the same way.
    replace_spec(page, json.dumps({**SPEC, "name": "Other", "timeframe": "2h"}, indent=2))
    page.get_by_role("button", name="Create strategy").click()
    expect(page.get_by_role("alert").filter(has_text="Not saved: The strategy spec is invalid.")).to_be_visible()
    expect(page.get_by_test_id("problems")).to_contain_text("unknown timeframe '2h'")
    assert db[STRATEGIES].count_documents({}) == 1

    # Unsaved edits: reloading asks first.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.evaluate("localStorage.setItem('tickflow.settings', JSON.stringify({zone: 'utc', theme: 'dark'}))")
    page.reload()
    assert asked == ["beforeunload"]
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    replace_spec(
        page, json.dumps({**SPEC, "timeframe": "2h", "rules": {"enter_long": "crosses_above(fast, macd)"}}, indent=2)
    )
    expect(page.get_by_test_id("check-status")).to_have_text("2 problems")
    assert "macd" in marked(page)
    shot(page, "strategy-editor-dark")


def test_edit_params_in_the_form_add_an_indicator_from_the_catalogue_and_save(logged_in: Page, db, redis):
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    open_strategy(page, strategy.id)
    expect(page.get_by_test_id("strategy-state")).to_contain_text("Version 1")

    # The params form and the JSON follow each other.
    fast = page.get_by_label("fast", exact=True)
    expect(fast).to_have_value("10")
    fast.fill("abc")
    expect(page.locator("#param-fast-note")).to_have_text("Enter a number, like 10 or 0.05.")
    fast.fill("12")
    expect(editor(page)).to_contain_text('"fast": 12')
    expect(page.get_by_test_id("resolved-indicators")).to_contain_text("SMA(timeperiod=12)")
    replace_spec(page, json.dumps({**SPEC, "params": {"fast": 8, "slow": 30}}, indent=2))
    expect(page.get_by_label("slow", exact=True)).to_have_value("30")
    expect(fast).to_have_value("8")

    # The picker: search, pick with the keyboard, name it, insert.
    page.get_by_role("button", name="Add indicator").click()
    picker = page.get_by_test_id("indicator-picker")
    picker.get_by_role("combobox", name="Search").fill("relative strength")
    expect(picker.get_by_role("listbox").get_by_role("option").first).to_contain_text("RSI")
    picker.get_by_role("combobox", name="Search").press("Enter")
    expect(picker.get_by_label("Name in the spec")).to_have_value("rsi")
    expect(picker.get_by_label("Name in the spec")).to_be_focused()
    expect(picker.get_by_test_id("indicator-choice")).to_contain_text("timeperiod")
    shot(page, "strategy-indicator-picker")
    picker.get_by_label("Name in the spec").fill("fast")
    picker.get_by_role("button", name="Insert RSI").click()
    expect(picker.get_by_role("alert")).to_have_text("An indicator is already named 'fast'.")
    picker.get_by_label("Name in the spec").fill("momentum")
    picker.get_by_role("button", name="Insert RSI").click()
    expect(picker).to_be_hidden()
    expect(editor(page)).to_contain_text('"momentum": {"function": "RSI", "params": {"timeperiod": 14}}')
    expect(page.get_by_test_id("resolved-indicators")).to_contain_text("momentum")
    expect(page.get_by_test_id("resolved-indicators")).to_contain_text("own pane")

    editor(page).press("ControlOrMeta+s")
    expect(page.get_by_test_id("strategy-state")).to_contain_text("Version 2")
    stored = StrategyRepository(db, redis).get(strategy.id)
    assert stored.version == 2
    assert stored.spec["params"] == {"fast": 8, "slow": 30}
    assert stored.spec["indicators"]["momentum"]["function"] == "RSI"
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_disabled()


def test_a_conflicting_save_offers_to_reload_theirs_or_overwrite(logged_in: Page, stack: Stack, token: str, db, redis):
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    open_strategy(page, strategy.id)

    # Someone else changes it meanwhile; reloading theirs drops our edit.
    assert api(stack, token, "PATCH", f"/strategies/{strategy.id}", json={"params": {"slow": 40}}).status_code == 200
    page.get_by_label("fast", exact=True).fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_contain_text("Someone saved version 2 after you loaded version 1")
    page.get_by_role("button", name="Reload theirs").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("slow", exact=True)).to_have_value("40")
    expect(page.get_by_label("fast", exact=True)).to_have_value("10")
    expect(page.get_by_test_id("strategy-state")).to_have_text(re.compile("^Version 2"))

    # Again, and this time ours wins.
    assert api(stack, token, "PATCH", f"/strategies/{strategy.id}", json={"params": {"slow": 50}}).status_code == 200
    page.get_by_label("fast", exact=True).fill("7")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_contain_text("Someone saved version 3 after you loaded version 2")
    shot(page, "strategy-conflict")
    page.get_by_role("button", name="Overwrite").click()
    expect(page.get_by_test_id("strategy-state")).to_contain_text("Version 4")
    stored = StrategyRepository(db, redis).get(strategy.id)
    assert stored.version == 4 and stored.spec["params"] == {"fast": 7, "slow": 40}


def test_backtest_from_the_strategy_goes_to_its_run(logged_in: Page, db, redis):
    CandleStore(db).upsert("BTCUSDT", "1h", generate_candles(300, "1h"))
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    open_strategy(page, strategy.id)
    page.get_by_role("button", name="Backtest").click()
    page.wait_for_url(re.compile(r"/backtests/[0-9a-f]{24}$"))
    run_id = page.url.rsplit("/", 1)[1]
    run = db[BACKTEST_RESULTS].find_one({"_id": ObjectId(run_id)})
    assert run is not None and run["strategy_id"] == strategy.id and run["symbol"] == "BTCUSDT"
    expect(page.get_by_text(strategy.name).first).to_be_visible()  # the run's own page


def test_start_live_from_the_strategy_asks_the_cash_and_goes_to_live(
    logged_in: Page, stack: Stack, token: str, db, redis
):
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    open_strategy(page, strategy.id)
    page.get_by_role("button", name="Start live").click()
    dialog = page.get_by_test_id("start-dialog")
    dialog.get_by_label("Cash per symbol").fill("0")
    dialog.get_by_role("button", name="Start paper trading").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter an amount above 0.")
    dialog.get_by_label("Cash per symbol").fill("2500")
    dialog.get_by_role("button", name="Start paper trading").click()
    page.wait_for_url("**/live")
    live = api(stack, token, "GET", f"/strategies/{strategy.id}").json()["live"]
    assert live["active"] is True and live["cash"] == 2500


def test_delete_asks_for_confirmation(logged_in: Page, db, redis):
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    open_strategy(page, strategy.id)
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_test_id("delete-dialog")
    expect(dialog).to_contain_text(SPEC["name"])
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert db[STRATEGIES].count_documents({}) == 1

    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete strategy").click()
    page.wait_for_url("**/strategies")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No strategies yet")
    assert db[STRATEGIES].count_documents({}) == 0
    shot(page, "strategies-empty")


def test_the_list_shows_live_badges_filters_by_name_and_pages(logged_in: Page, stack: Stack, token: str, db, redis):
    repository = StrategyRepository(db, redis)
    live = repository.create({**SPEC, "name": "Alpha live"})
    repository.create({**load_example("rsi_mean_reversion"), "name": "Alpha quiet"})
    for index in range(21):
        repository.create({**SPEC, "name": f"Beta {index:02d}", "timeframe": "15m"})
    started = api(stack, token, "POST", f"/strategies/{live.id}/start", json={"cash": 5000})
    assert started.status_code == 200, started.text

    page = logged_in
    page.goto("/strategies")
    rows = page.get_by_test_id("strategy-row")
    expect(rows).to_have_count(20)
    expect(page.get_by_test_id("paging")).to_have_text("23 strategies · page 1 of 2")
    alpha = rows.filter(has_text="Alpha live")
    expect(alpha.get_by_test_id("live-badge")).to_have_text("Live · paper")
    expect(alpha).to_contain_text("BTCUSDT")
    expect(alpha).to_contain_text("1h")
    expect(rows.filter(has_text="Alpha quiet").get_by_test_id("live-badge")).to_have_count(0)
    shot(page, "strategies")

    page.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("paging")).to_have_text("23 strategies · page 2 of 2")
    page.wait_for_url("**/strategies?page=2")

    page.get_by_label("Name starts with").fill("Alpha")
    expect(rows).to_have_count(2)
    page.wait_for_url("**/strategies?name=Alpha")
    page.get_by_label("Name starts with").fill("Gamma")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No strategy name starts with “Gamma”")

    page.get_by_label("Name starts with").fill("Alpha l")
    rows.filter(has_text="Alpha live").click()
    page.wait_for_url(f"**/strategies/{live.id}")
    expect(page.get_by_test_id("live-badge").first).to_have_text("Live · paper")
    expect(page.get_by_role("button", name="Start live")).to_have_count(0)


def test_the_list_marks_a_strategy_live_when_its_first_event_arrives(
    logged_in: Page, stack: Stack, token: str, db, redis
):
    strategy = StrategyRepository(db, redis).create(SPEC)
    page = logged_in
    page.goto("/strategies")
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))
    row = page.get_by_test_id("strategy-row").filter(has_text=SPEC["name"])
    expect(row).to_be_visible()
    expect(row.get_by_test_id("live-badge")).to_have_count(0)

    # Started elsewhere: the page learns it from the strategy's first fill on the stream, without a reload.
    assert api(stack, token, "POST", f"/strategies/{strategy.id}/start", json={"cash": 1000}).status_code == 200
    fill = {"client_order_id": "c1", "strategy_id": strategy.id, "symbol": "BTCUSDT", "ts": 1, "side": "buy"}
    publish(redis, "fill", {**fill, "size": 0.01, "price": 60000.0, "commission": 0.0})
    expect(row.get_by_test_id("live-badge")).to_have_text("Live · paper")
