"""``tickflow feed``: one long-running process feeding ticks to the live pipeline, in batches.

It runs until stopped (SIGINT or SIGTERM: the last ticks are flushed to the
broker first) or, for a replay, until the candles run out. A line every
``--report-every`` seconds gives the rates. See docs/feeds.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import click
from pymongo.errors import PyMongoError

from strategies.candles import TIMEFRAME_MS, Candles
from tasks.celery_app import app as celery_app
from tasks.feed import celery_sink
from tickflow.logs import configure
from tickflow.runtime import freeze_startup_objects
from tickflow.storage.candles import (
    CandleDataError,
    CandleStore,
    SymbolRange,
    normalize_symbol,
)
from tickflow.storage.connections import mongo_db, redis_client
from workers.feeds import (
    BatchPublisher,
    BinanceFeed,
    Feed,
    Lockstep,
    LockstepTimeout,
    ReplayFeed,
    SimulatedFeed,
    run_feed,
)
from workers.feeds.binance import DEFAULT_URL
from workers.feeds.publisher import MAX_QUEUED_BATCHES

log = logging.getLogger(__name__)

SOURCES = ("simulated", "replay", "binance")
SOURCE_OPTIONS = {
    "simulated": ("rate", "rate_per_symbol", "seed"),
    "replay": ("timeframe", "start", "end", "speed", "lockstep", "lockstep_timeout"),
    "binance": ("url",),
}
"""Options that mean something for one source only; giving them to another is a usage error."""
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _symbols(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    """``btcusdt, ETHUSDT`` -> ``["BTCUSDT", "ETHUSDT"]``, each once."""
    try:
        symbols = [normalize_symbol(part) for part in value.split(",") if part.strip()]
    except CandleDataError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    if not symbols:
        raise click.BadParameter("give at least one symbol, e.g. BTCUSDT,ETHUSDT", ctx, param)
    return list(dict.fromkeys(symbols))


def _non_negative(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise click.BadParameter(f"{value} is not a finite number >= 0", ctx, param)
    return value


def _ws_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if urlsplit(value).scheme not in ("ws", "wss") or not urlsplit(value).netloc:
        raise click.BadParameter(f"{value!r} is not a ws:// or wss:// URL", ctx, param)
    return value


def _epoch_ms(moment: datetime | None) -> int | None:
    """A date from the command line (UTC) in epoch ms."""
    return None if moment is None else int(moment.replace(tzinfo=UTC).timestamp() * 1000)


@click.command("feed")
@click.option("--source", required=True, type=click.Choice(SOURCES), help="Where the ticks come from.")
@click.option(
    "--symbols",
    required=True,
    callback=_symbols,
    metavar="SYM,SYM",
    help="Comma-separated symbols, e.g. BTCUSDT,ETHUSDT.",
)
@click.option(
    "--rate",
    type=float,
    callback=_non_negative,
    help="simulated: ticks/s over all symbols; 0 = as fast as possible. [default: 10 per symbol]",
)
@click.option("--rate-per-symbol", type=float, callback=_non_negative, help="simulated: ticks/s per symbol.")
@click.option("--seed", type=int, default=0, show_default=True, help="simulated: random seed.")
@click.option("--timeframe", type=click.Choice(list(TIMEFRAME_MS)), help="replay: timeframe of the stored candles.")
@click.option("--start", type=click.DateTime(DATE_FORMATS), help="replay: first candle open time (UTC).")
@click.option("--end", type=click.DateTime(DATE_FORMATS), help="replay: replay candles opening before this (UTC).")
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    callback=_non_negative,
    help="replay: 1 = real time, 60 = a minute per second, 0 = as fast as possible.",
)
@click.option(
    "--lockstep", is_flag=True, help="replay: after each candle close, wait until the live pipeline has processed it."
)
@click.option(
    "--lockstep-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="replay: seconds to wait for the pipeline before giving up.",
)
@click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    callback=_ws_url,
    help="binance: WebSocket endpoint (ws:// or wss://).",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True, help="Ticks per message at most."
)
@click.option(
    "--batch-ms",
    type=click.FloatRange(min=1),
    default=20.0,
    show_default=True,
    help="Longest a tick waits for its batch to fill.",
)
@click.option(
    "--max-buffered",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Ticks kept while the broker is down; the oldest beyond are dropped.",
)
@click.option(
    "--report-every",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between rate lines.",
)
@click.pass_context
def feed(
    ctx: click.Context,
    source: str,
    symbols: list[str],
    batch_size: int,
    batch_ms: float,
    max_buffered: int,
    report_every: float,
    **options: Any,
) -> int:
    """Publish ticks from SOURCE to the live pipeline (Celery queue "ingest") until stopped."""
    _check_options(ctx, source)
    if max_buffered < batch_size * MAX_QUEUED_BATCHES:
        raise click.BadParameter(
            f"must hold at least {MAX_QUEUED_BATCHES} batches ({batch_size * MAX_QUEUED_BATCHES} ticks)",
            ctx,
            param_hint="'--max-buffered'",
        )
    if source == "replay" and not options["timeframe"]:
        raise click.UsageError("--source replay needs --timeframe")
    candles = _load_candles(symbols, options) if source == "replay" else None
    configure("feed")
    freeze_startup_objects()  # a full collection would hold up the batches in flight

    async def main() -> None:
        async with BatchPublisher(
            celery_sink(celery_app),
            batch_size=batch_size,
            batch_interval_s=batch_ms / 1000,
            max_buffered_ticks=max_buffered,
        ) as publisher:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await run_feed(_make_feed(source, symbols, candles, options, publisher), publisher, stop, report_every)

    try:
        asyncio.run(main())
    except LockstepTimeout as exc:
        raise click.ClickException(str(exc)) from None
    return 0


def _check_options(ctx: click.Context, source: str) -> None:
    for other, names in SOURCE_OPTIONS.items():
        for name in names:
            if other != source and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                flag = "--" + name.replace("_", "-")
                raise click.UsageError(f"{flag} applies to --source {other}, not {source}")
    if ctx.params["rate"] is not None and ctx.params["rate_per_symbol"] is not None:
        raise click.UsageError("give --rate or --rate-per-symbol, not both")


def _load_candles(symbols: list[str], options: dict) -> dict[str, Candles]:
    timeframe, start, end = options["timeframe"], _epoch_ms(options["start"]), _epoch_ms(options["end"])
    store = CandleStore(mongo_db())
    candles = {symbol: store.load(symbol, timeframe, start, end) for symbol in symbols}
    empty = [symbol for symbol, series in candles.items() if not len(series)]
    if empty:
        within = "" if start is None and end is None else " in that time range"
        raise click.ClickException(
            f"no stored {timeframe} candles of {', '.join(empty)}{within} (import some with `tickflow import-candles`)"
        )
    return candles


def _make_feed(
    source: str, symbols: list[str], candles: dict[str, Candles] | None, options: dict, publisher: BatchPublisher
) -> Feed:
    if source == "simulated":
        rate = options["rate"]
        if rate is None:
            rate = len(symbols) * (10.0 if options["rate_per_symbol"] is None else options["rate_per_symbol"])
        return SimulatedFeed(symbols, rate=rate or None, seed=options["seed"], start_prices=_last_closes(symbols))
    if source == "replay":
        lockstep = (
            Lockstep(publisher, redis_client(), options["timeframe"], options["lockstep_timeout"])
            if options["lockstep"]
            else None
        )
        return ReplayFeed(candles, options["timeframe"], speed=options["speed"], checkpoint=lockstep)
    return BinanceFeed(symbols, url=options["url"])


def _last_closes(symbols: list[str]) -> dict[str, float]:
    """Each symbol's most recent stored close (of whichever timeframe closed last), where one is stored.

    The simulated walk starts there, so its candles continue the history that warms live strategies
    up instead of jumping to an unrelated level. Without MongoDB the walk starts at its usual levels.
    """
    try:
        store = CandleStore(mongo_db())
        stored = [series for series in store.ranges() if series.symbol in symbols]  # from an index: no candle read

        def closed_at(series: SymbolRange) -> tuple[int, int]:  # of equal times, the finest timeframe's close
            period = TIMEFRAME_MS[series.timeframe]
            return series.last_ts + period, -period

        latest = {series.symbol: series for series in sorted(stored, key=closed_at)}  # the last one wins
        return {
            symbol: float(store.load(symbol, series.timeframe, series.last_ts).close[-1])
            for symbol, series in latest.items()
        }
    except PyMongoError as error:
        log.warning("stored candles unreadable (%s): simulated prices start at their default levels", error)
        return {}


COMMANDS: list[click.Command] = [feed]
