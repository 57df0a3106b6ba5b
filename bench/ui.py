"""Web UI benchmark: the dashboard in Debian's Chromium (Playwright) against the real API, stream and UI.

    .venv/bin/python bench/ui.py            # after `make ui` (the UI must be built); `make bench` does both

Starts a throwaway Redis and MongoDB (free ports, under ``var/bench/``), the API, the stream
process and the UI as the Procfile runs them, and seeds a paper-trading strategy and a done
backtest over 20,000 1h bars. Then measures, in a headless Chromium with a 1280x900 window:

* ``live_first_load_ms``: a first visit to ``/live`` (a new browser context: nothing cached),
  from the start of navigation until the strategy's card is drawn and the page's main thread
  is idle (``requestIdleCallback``): the page is interactive. Median of 5; ``_warm`` is the
  same with the browser's cache warm;
* ``first_page_js_gzip_kb``: every script ``/live`` loads, gzipped as ``next start`` serves them;
* ``result_20k_bars_ms``: ``/backtests/<id>?bars=20000`` (the run's 20,000 bars, none
  merged) from navigation until its candle chart has painted them (the page's own
  ``data-drawn-at-ms``); median of 5;
* ``event_to_screen_p50_ms`` / ``_p99_ms``: with ``/live`` open, 100 ``order`` events
  published into the live event stream, one every 100 ms; from each publish (this process's
  clock) to the moment its row appears in the page's event feed (the page's clock, the same
  machine's; a ``MutationObserver`` notes it).

Targets (issue 12): first load <= 1.5 s, first page JavaScript <= 350 kB gzipped, 20,000 bars
drawn <= 1 s, event to screen p99 <= 250 ms. Prints one line per figure, then a JSON line.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import procfile  # noqa: E402  (after the path insert)
from bench.candles import bench_services, report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 900}
LOADS = 5
EVENTS = 100
EVENT_EVERY_S = 0.1
STRATEGY = "bench live"


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "frontend/.next/BUILD_ID").exists():
        raise SystemExit("bench/ui.py: the UI is not built; run `make ui` first")
    figures: dict[str, float] = {}
    with bench_services(cache_gb=0.25), platform() as (ui, token), sync_playwright() as playwright:
        run_id = seed()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            figures.update(first_load(browser, ui, token))
            figures.update(result_page(browser, ui, token, run_id))
            figures.update(event_to_screen(browser, ui, token))
        finally:
            browser.close()
    print(json.dumps(figures))
    return 0


@contextmanager
def platform() -> Iterator[tuple[str, str]]:
    """API, stream and UI as the Procfile runs them, on free ports: (the UI's URL, a token)."""
    from cli.localservices import ProcfileProcess, free_port
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.schema import ensure_schema
    from tickflow.storage.tokens import TokenRepository

    ensure_schema(mongo_db())
    token, _ = TokenRepository(mongo_db(), redis_client()).create("bench")
    api_port, stream_port, ui_port = free_port(), free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    env = {
        "API_PORT": str(api_port),
        "STREAM_PORT": str(stream_port),
        "UI_PORT": str(ui_port),
        "TICKFLOW_API_URL": f"http://127.0.0.1:{api_port}",
        "CORS_ORIGINS": ui,
        "LOG_LEVEL": "WARNING",
    }
    started = []
    try:
        for name, url in (
            ("api", f"http://127.0.0.1:{api_port}/api/v1/health/live"),
            ("stream", f"http://127.0.0.1:{stream_port}/api/v1/live/stream/health"),
            ("ui", f"{ui}/ui-config"),
        ):
            process = ProcfileProcess(procfile(name), env, ROOT / f"var/bench/{name}.log", ROOT)
            started.append(process)
            process.wait_answering(url)
        report("processes", f"ui {ui}, api :{api_port}, stream :{stream_port}; logs in var/bench/")
        yield ui, token
    finally:
        for process in reversed(started):
            process.stop()


def seed() -> str:
    """A strategy paper trading BENCHUSDT, and a done backtest over 20,000 1h bars; the backtest's id."""
    from backtests.jobs import run_backtest_job
    from backtests.runs import resolve_target
    from strategies.examples import load_example
    from tickflow.settings import live_settings
    from tickflow.storage.backtest_results import BacktestRepository
    from tickflow.storage.candles import CandleStore
    from tickflow.storage.connections import mongo_db, redis_client
    from tickflow.storage.strategies import StrategyRepository
    from tickflow.synthetic import generate_candles
    from workers.engine import LiveEngine

    db = mongo_db()
    strategies = StrategyRepository(db, redis_client())
    live = strategies.create(
        {**load_example("sma_cross"), "name": STRATEGY, "symbols": ["BENCHUSDT"], "timeframe": "1m"}
    )
    LiveEngine(redis_client(), db, live_settings()).start(live.id, "paper", 10_000)
    CandleStore(db).upsert("HOURUSDT", "1h", generate_candles(20_000, "1h", seed=3))
    hourly = strategies.create({**load_example("sma_cross"), "name": "bench 20k", "symbols": ["HOURUSDT"]})
    run_id = str(BacktestRepository(db).create(resolve_target(strategies, hourly.id))["_id"])
    assert run_backtest_job(db, run_id, {"hostname": "bench", "pid": 0}) == "done"
    return run_id


def logged_in_context(browser, ui: str, token: str):
    """A new browser context (empty cache) whose tabs hold the token, as after logging in."""
    context = browser.new_context(viewport=VIEWPORT, base_url=ui)
    context.add_init_script(f"window.sessionStorage.setItem('tickflow.token', {json.dumps(token)})")
    return context


IDLE_MS = "() => new Promise(done => requestIdleCallback(() => done(performance.now()), {timeout: 5000}))"


def first_load(browser, ui: str, token: str) -> dict[str, float]:
    cold, warm, scripts = [], [], set()
    for _ in range(LOADS):
        context = logged_in_context(browser, ui, token)
        page = context.new_page()
        page.on("request", lambda request: request.resource_type == "script" and scripts.add(request.url))
        for loads in (cold, warm):  # the second load finds the browser's cache filled by the first
            page.goto("/live")
            page.get_by_role("heading", name=STRATEGY).wait_for()
            loads.append(page.evaluate(IDLE_MS))
        context.close()
    with browser.new_context() as context:
        gzipped = sum(len(gzip.compress(context.request.get(url).body(), 6)) for url in scripts) / 1024
    load_ms, warm_ms = statistics.median(cold), statistics.median(warm)
    report("first load", f"/live interactive after {load_ms:.0f} ms (median of {LOADS}, cold); warm {warm_ms:.0f} ms")
    report("first js", f"{len(scripts)} scripts, {gzipped:.0f} kB gzipped")
    return {"live_first_load_ms": round(load_ms), "live_first_load_warm_ms": round(warm_ms),
            "first_page_js_gzip_kb": round(gzipped)}  # fmt: skip


def result_page(browser, ui: str, token: str, run_id: str) -> dict[str, float]:
    times = []
    for _ in range(LOADS):
        context = logged_in_context(browser, ui, token)
        page = context.new_page()
        page.goto(f"/backtests/{run_id}?bars=20000")
        chart = page.locator("[data-testid=result-chart][data-drawn='20000']")
        chart.wait_for(timeout=60_000)
        times.append(int(chart.get_attribute("data-drawn-at-ms")))  # the page's own: navigation start to painted
        context.close()
    drawn = statistics.median(times)
    report("result page", f"20,000 bars drawn {drawn:.0f} ms after navigation (median of {LOADS})")
    return {"result_20k_bars_ms": round(drawn)}


def event_to_screen(browser, ui: str, token: str) -> dict[str, float]:
    from tickflow.storage.connections import redis_client
    from tickflow.storage.events import publish

    context = logged_in_context(browser, ui, token)
    page = context.new_page()
    page.goto("/live")
    page.get_by_test_id("stream-status").and_(page.locator("[data-state=open]")).wait_for()
    page.evaluate("""() => {
        window.__seen = {};
        new MutationObserver(() => {
            for (const row of document.querySelectorAll('[data-testid=feed-item]')) {
                const match = /BENCH(\\d+)X/.exec(row.textContent);
                if (match && !(match[1] in window.__seen)) window.__seen[match[1]] = Date.now();
            }
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    client, sent = redis_client(), {}
    for n in range(EVENTS):
        sent[str(n)] = time.time() * 1000
        publish(client, "order", {"strategy_id": "bench", "symbol": f"BENCH{n}X", "side": "buy", "size": 1.0,
                                  "price": 100.0, "ts": int(sent[str(n)]), "client_order_id": f"bench-{n}",
                                  "reason": "entry"})  # fmt: skip
        time.sleep(EVENT_EVERY_S)
    page.wait_for_function(f"() => Object.keys(window.__seen).length >= {EVENTS}", timeout=30_000)
    seen = page.evaluate("() => window.__seen")
    context.close()
    delays = [seen[n] - sent[n] for n in sent]
    p50, p99 = np.percentile(delays, [50, 99])
    report("event to screen", f"{EVENTS} order events: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    return {"event_to_screen_p50_ms": round(float(p50), 1), "event_to_screen_p99_ms": round(float(p99), 1)}


if __name__ == "__main__":
    sys.exit(main())
