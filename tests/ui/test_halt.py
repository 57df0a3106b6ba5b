"""The kill switch on the live overview: halt after confirming (with a reason), see the banner, close every
position from it, resume; and a halt made elsewhere (the CLI) shows up without reloading."""

from __future__ import annotations

import re

from click.testing import CliRunner
from playwright.sync_api import Page, expect

from cli.main import cli
from tests.ui.conftest import shot
from tickflow.storage.halt import current_halt


def test_halting_from_the_live_page_shows_a_banner_until_resumed(logged_in: Page, redis):
    page = logged_in
    page.get_by_role("button", name="Halt trading").click()
    dialog = page.get_by_role("dialog", name="Halt all trading?")
    expect(dialog).to_contain_text("Stops, targets and trailing stops keep working")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_label("Reason (optional)").fill("exchange maintenance")
    dialog.get_by_role("button", name="Halt", exact=True).click()

    banner = page.get_by_test_id("halt-banner")
    expect(banner).to_contain_text("Trading halted")
    expect(banner).to_contain_text("by ui-tests: exchange maintenance")
    expect(page.get_by_role("button", name="Halt trading")).to_have_count(0)
    assert current_halt(redis).reason == "exchange maintenance"
    shot(page, "live-halted")

    banner.get_by_role("button", name="Close all positions").click()
    expect(banner).to_contain_text("Trading halted: closing every position")
    assert current_halt(redis).flatten

    banner.get_by_role("button", name="Resume trading").click()
    expect(banner).to_have_count(0)
    expect(page.get_by_role("button", name="Halt trading")).to_be_visible()
    assert current_halt(redis) is None


def test_a_halt_from_the_cli_reaches_an_open_page_without_reloading(logged_in: Page, redis):
    page = logged_in
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))
    assert CliRunner().invoke(cli, ["halt", "--reason", "from a shell"]).exit_code == 0
    expect(page.get_by_test_id("halt-banner")).to_contain_text("by cli: from a shell")
    assert CliRunner().invoke(cli, ["resume"]).exit_code == 0
    expect(page.get_by_test_id("halt-banner")).to_have_count(0)
