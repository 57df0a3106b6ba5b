"""The web UI in a real browser against the real platform: Chromium (Debian's), driven by Playwright.

One stack for the browser tests, every process as the Procfile runs it, on free ports: the API, the live
stream, the UI (``next start`` over the build ``make test`` makes), and a live and a backtest
worker (the tests' Celery apps, as the worker tests use), over the test Redis and MongoDB. Each
test starts from emptied databases (the ``db`` and ``redis`` fixtures) and a new browser context.

Every page fails its test on a console error, on any request to an origin other than the
UI's, the API's and the stream's (nothing loads from a CDN), and on a serious or critical
accessibility violation that axe-core finds in the page the test ends on. ``shot(page, name)``
saves a screenshot under ``var/ui-screenshots/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cli.localservices import ProcfileProcess, free_port
from tests.backtests.conftest import new_backtest_worker
from tests.celery_workers import CeleryWorker, discard_broker_messages
from tests.conftest import ROOT
from tests.exchange.conftest import API_KEY, API_SECRET, local_venue  # noqa: F401  (local_venue: a fixture)
from tests.ops.test_deployment_files import PROCESSES
from tests.workers.conftest import live_broker, new_live_worker  # noqa: F401  (live_broker: a fixture)
from tickflow.storage.connections import redis_client
from tickflow.storage.tokens import TokenRepository

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "ui-screenshots"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 20_000
"""How long a page may take to show what a test waits for: the stack shares two cores with the test run."""
expect.set_options(timeout=WAIT_MS)


@dataclass(frozen=True)
class Stack:
    ui: str
    api: str
    stream: str

    @property
    def origins(self) -> set[str]:
        return {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in (self.ui, self.api, self.stream)}


@pytest.fixture(scope="package")
def stack(services, local_venue, request, tmp_path_factory) -> Iterator[Stack]:  # noqa: F811
    """API, stream, UI and workers, as the Procfile runs them, on free ports; live mode trades on the local venue."""
    request.getfixturevalue("live_broker")  # the broker emptied once, before any worker connects
    if not (ROOT / "frontend" / ".next" / "BUILD_ID").exists():
        pytest.fail("the UI is not built: run `make test` (or `make ui`) first")
    logs = tmp_path_factory.mktemp("ui-stack")
    api_port, stream_port, ui_port = free_port(), free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    api = f"http://127.0.0.1:{api_port}"
    stream = f"http://127.0.0.1:{stream_port}"
    exchange = {
        "TICKFLOW_EXCHANGE_URL": local_venue.url,
        "TICKFLOW_EXCHANGE_API_KEY": API_KEY,
        "TICKFLOW_EXCHANGE_API_SECRET": API_SECRET,
    }
    env = {
        **exchange,
        "API_PORT": str(api_port),
        "STREAM_PORT": str(stream_port),
        "UI_PORT": str(ui_port),
        "TICKFLOW_API_URL": api,
        "CORS_ORIGINS": ui,
    }
    started: list[ProcfileProcess] = []
    workers: list[CeleryWorker] = []
    try:
        for name, health in (("stream", f"{stream}/api/v1/live/stream/health"), ("api", f"{api}/api/v1/health/live"),
                             ("ui", f"{ui}/ui-config")):  # fmt: skip
            process = ProcfileProcess(PROCESSES[name], env, logs / f"{name}.log", ROOT)
            started.append(process)
            process.wait_answering(health)
        workers.append(new_live_worker(logs, env=exchange))
        workers.append(new_backtest_worker(logs))
        yield Stack(ui, api, stream)
    finally:
        for worker in workers:
            worker.kill()
        discard_broker_messages()
        for process in reversed(started):
            process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module: Playwright's sync API runs an event loop in this thread while it is open,
    which would break the asyncio.run of tests that come after."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def token(db) -> str:
    """A new API token (the databases are emptied before each test)."""
    return TokenRepository(db, redis_client()).create("ui-tests")[0]


@pytest.fixture
def page(browser: Browser, stack: Stack, redis, db) -> Iterator[Page]:
    """A fresh browser tab on the UI; the test fails on a console error or a request to a foreign origin."""
    context = browser.new_context(viewport=VIEWPORT, base_url=stack.ui)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    problems: list[str] = []

    def check_console(message) -> None:
        # A 4xx the page asked for and handles (a bad token's 401, a 422 shown at its field) is the API
        # answering, which Chromium also logs; a 404 (a missing asset) and anything else is a problem.
        handled = re.search(r"status of 4(0[0-35-9]|[1-2]\d) ", message.text)
        if message.type == "error" and not handled:
            problems.append(f"console: {message.text}")

    tab.on("console", check_console)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def check_origin(request) -> None:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(request.url))
        if request.url.startswith(("data:", "blob:")):
            return
        if origin not in stack.origins:
            problems.append(f"request to a foreign origin: {request.url}")

    tab.on("request", check_origin)
    yield tab
    if tab.url.startswith(stack.ui):
        problems += accessibility_problems(tab)
    context.close()
    assert not problems, "\n".join(problems)


def accessibility_problems(page: Page) -> list[str]:
    """The serious and critical violations axe-core finds in the page as it is now (WCAG 2 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    return [
        f"accessibility ({violation['impact']}): {violation['id']}: {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def logged_in(page: Page, token: str) -> Page:
    """The tab, logged in through the login link ``make run`` prints, on the live overview."""
    page.goto(f"/login#token={token}")
    page.wait_for_url("**/live")
    return page


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot, kept under var/ui-screenshots/ (the README shows some)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
