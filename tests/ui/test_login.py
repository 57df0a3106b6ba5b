"""Logging in: a pasted token, a bad one, the login link's fragment, and coming back after a 401."""

import re

from playwright.sync_api import Page, expect

from tests.ui.conftest import shot


def test_the_login_link_logs_in_and_removes_the_token_from_the_address_bar(logged_in: Page, token: str):
    assert token not in logged_in.url and "#" not in logged_in.url
    expect(logged_in.get_by_test_id("me")).to_have_text("Token: ui-tests")
    expect(logged_in.get_by_test_id("stream-status")).to_have_attribute("data-state", re.compile("open|follower"))


def test_a_bad_token_shows_the_apis_message_at_the_field(page: Page):
    page.goto("/login")
    page.get_by_label("API token").fill("tf_not-a-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#token-error")).to_contain_text("A valid API token is required")
    shot(page, "login")


def test_a_page_opened_without_a_token_comes_back_after_logging_in(page: Page, token: str):
    page.goto("/backtests?page=1")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/backtests?page=1")
