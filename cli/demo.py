"""The demo that ``tickflow run`` seeds on a first run, so a fresh platform has something to show.

What it puts in place, each step once:

* a year of generated 1-minute candles (``tickflow.synthetic``) for the symbols the
  Procfile's simulated feed publishes, plus the same bars aggregated to 15m, 1h and 4h
  so that the example strategies (which trade those timeframes) can be backtested;
* the four example strategies (``strategies.examples``);
* two demo strategies on ``1m`` over the feed's symbols, started in paper mode the way
  ``POST /strategies/<id>/start`` starts them;
* every strategy it creates sized on its symbols' exchange lot steps and minimums
  (``MARKET``), so that 10,000 of cash trades fractions of a BTC at 60,000;
* one backtest and one sweep of the first demo strategy, submitted through the same
  functions as the API: they are queued at once and finish when the backtest worker
  (started by the Procfile right after) has run them;
* an API token called ``demo``, whose plaintext is returned once and never stored.

Idempotence: the ``demo_seed`` collection holds one document recording each step as
it is done (with the ids it created). A step already recorded is skipped, so a
second run seeds nothing, and a run interrupted halfway finishes the rest next time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from pymongo.database import Database

from strategies.candles import TIMEFRAME_MS, Candles
from strategies.examples import EXAMPLES, load_example
from tickflow.storage.candles import CandleStore
from tickflow.storage.connections import redis_client
from tickflow.storage.schema import mongo_now
from tickflow.storage.strategies import Conflict, StrategyRepository
from tickflow.storage.tokens import TokenNameTaken, TokenRepository
from tickflow.synthetic import generate_candles

MARKER = "demo_seed"
"""Collection holding the one document (``_id: "demo"``) that records what was seeded."""
SYMBOLS = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0}
"""The simulated feed's symbols (Procfile ``feed``) and the price each generated year starts at."""
DAYS = 365
AGGREGATES = ("15m", "1h", "4h")
TOKEN_NAME = "demo"
CASH = 10_000.0
"""Cash of the paper accounts, the backtest and the sweep."""
MARKET = {
    "step": {"BTCUSDT": 0.00001, "ETHUSDT": 0.0001, "SOLUSDT": 0.001},
    "min_qty": {"BTCUSDT": 0.00001, "ETHUSDT": 0.0001, "SOLUSDT": 0.001},
    "min_notional": 5,
}
"""The symbols' quantity rules, as Binance spot has them (LOT_SIZE step and minimum, a 5 USDT minimum
notional); whole units, the spec's default, would not buy one BTC at 60,000 with 10,000 of cash."""

DEMO_STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("sma_cross", {"name": "Demo: SMA cross 1m", "symbols": ["BTCUSDT", "ETHUSDT"], "timeframe": "1m"}),
    ("rsi_mean_reversion", {"name": "Demo: RSI mean reversion 1m", "symbols": ["SOLUSDT"], "timeframe": "1m"}),
]
"""(example it is made from, fields changed): the two strategies the demo trades on paper."""
SWEEP_GRID = {"fast": {"start": 5, "stop": 20, "step": 5}, "slow": [30, 40, 50, 60]}


@dataclass
class SeedReport:
    seeded: bool
    """False when everything was already there (nothing was written)."""
    token: str | None = None
    """The demo API token, only on the run that created it."""
    done: dict[str, Any] = field(default_factory=dict)
    """The marker document: what the demo consists of."""


def year_window(now_ms: int | None = None) -> tuple[int, int]:
    """Start of the day a year ago and start of today (UTC), in epoch ms: whole days, aligned to every timeframe."""
    day = 86_400_000
    today = (int(time.time() * 1000) if now_ms is None else now_ms) // day * day
    return today - DAYS * day, today


def aggregate(candles: Candles, factor: int) -> Candles:
    """Gapless bars ``factor`` at a time into one (``len(candles)`` a multiple of ``factor``)."""
    n = len(candles) // factor
    shape = (n, factor)
    return Candles(
        ts=candles.ts[: n * factor : factor].copy(),
        open=candles.open[: n * factor].reshape(shape)[:, 0].copy(),
        high=candles.high[: n * factor].reshape(shape).max(axis=1),
        low=candles.low[: n * factor].reshape(shape).min(axis=1),
        close=candles.close[: n * factor].reshape(shape)[:, -1].copy(),
        volume=candles.volume[: n * factor].reshape(shape).sum(axis=1),
    )


def seed_demo(
    db: Database, client: redis.Redis, say: Callable[[str], None] = lambda _: None, now_ms: int | None = None
) -> SeedReport:
    """Seed what is not seeded yet (see the module docstring); ``say`` gets one line per step done."""
    markers = db[MARKER]
    done: dict[str, Any] = markers.find_one({"_id": "demo"}) or {}
    if done.get("complete"):
        return SeedReport(seeded=False, done=done)

    def record(**fields: Any) -> None:
        markers.update_one({"_id": "demo"}, {"$set": fields}, upsert=True)
        done.update(fields)

    strategies = StrategyRepository(db, client)
    report = SeedReport(seeded=True)

    if "candles" not in done:
        start, end = year_window(now_ms)
        store = CandleStore(db)
        n = (end - start) // TIMEFRAME_MS["1m"]
        for seed, (symbol, price) in enumerate(SYMBOLS.items(), start=1):
            t0 = time.monotonic()
            bars = generate_candles(n, "1m", start_ms=start, seed=seed, start_price=price)
            store.upsert(symbol, "1m", bars)
            for timeframe in AGGREGATES:
                store.upsert(symbol, timeframe, aggregate(bars, TIMEFRAME_MS[timeframe] // TIMEFRAME_MS["1m"]))
            say(f"candles    {symbol}: {n:,} 1m bars (+ {', '.join(AGGREGATES)}) in {time.monotonic() - t0:.1f} s")
        record(candles={"symbols": list(SYMBOLS), "timeframes": ["1m", *AGGREGATES], "start": start, "end": end})

    if "examples" not in done:
        ids = {}
        for name in EXAMPLES:
            ids[name] = _create_or_find(db, strategies, on_market(load_example(name)))
        say(f"strategies {len(ids)} examples: {', '.join(EXAMPLES)}")
        record(examples=ids)

    if "paper" not in done:
        from tickflow.settings import live_settings
        from workers.engine import LiveEngine

        engine = LiveEngine(client, db, live_settings())
        ids = []
        for example, changes in DEMO_STRATEGIES:
            strategy_id = _create_or_find(db, strategies, on_market({**load_example(example), **changes}))
            engine.start(strategy_id, "paper", CASH)
            ids.append(strategy_id)
            say(f"paper      {changes['name']} on {', '.join(changes['symbols'])} {changes['timeframe']}: started")
        record(paper=ids)

    if "backtest" not in done or "sweep" not in done:
        from tasks.backtests import submit_backtest, submit_sweep

        strategy_id = done["paper"][0]
        if "backtest" not in done:
            run = submit_backtest(db, strategies, strategy_id, symbol="BTCUSDT", cash=CASH)
            say(f"backtest   {run['_id']} queued (Demo: SMA cross 1m on a year of BTCUSDT)")
            record(backtest=str(run["_id"]))
        if "sweep" not in done:
            sweep = submit_sweep(
                db, strategies, strategy_id, symbol="BTCUSDT", grid=SWEEP_GRID, constraint="$fast < $slow", cash=CASH
            )
            say(f"sweep      {sweep['_id']} queued (fast 5..20 x slow 30..60)")
            record(sweep=str(sweep["_id"]))

    if "token" not in done:
        try:
            report.token, record_ = TokenRepository(db, redis_client()).create(TOKEN_NAME)
            record(token={"name": TOKEN_NAME, "id": record_.id})
        except TokenNameTaken:  # made by hand before the demo: leave it alone
            record(token={"name": TOKEN_NAME, "id": None})

    record(complete=True, seeded_at=mongo_now())
    report.done = done
    return report


def on_market(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` sized on the demo market's quantity rules (``MARKET``), its sizing mode and value kept."""
    return {**spec, "sizing": {**spec.get("sizing", {}), **MARKET}}


def _create_or_find(db: Database, strategies: StrategyRepository, spec: dict[str, Any]) -> str:
    """The id of the strategy named like ``spec``, created if there is none (names are unique)."""
    try:
        return strategies.create(spec).id
    except Conflict:
        return str(db["strategies"].find_one({"name": spec["name"]}, {"_id": 1})["_id"])
