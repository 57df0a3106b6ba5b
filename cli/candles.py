"""``tickflow import-candles`` and ``tickflow candles``: load history from CSV files, see and drop it.

The file is read and every candle checked before MongoDB is touched, so a bad
file fails at once with one line naming the place, and writes nothing.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from strategies.candles import TIMEFRAME_MS
from tickflow.candle_files import CandleFormatError, read_candles_csv
from tickflow.storage.candles import (
    CandleDataError,
    CandleStore,
    ImportSummary,
    bucket_count,
    normalize_symbol,
    validate_candles,
)
from tickflow.storage.schema import ready_db

timeframe_option = click.option(
    "--timeframe", "-t", required=True, type=click.Choice(list(TIMEFRAME_MS)), help="Bar length of the candles."
)


def _symbol(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return normalize_symbol(value)
    except CandleDataError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _store() -> CandleStore:
    return CandleStore(ready_db())


def _minute(ts_ms: int) -> str:
    return f"{datetime.fromtimestamp(ts_ms / 1000, UTC):%Y-%m-%d %H:%M}"


def _summary_line(symbol: str, timeframe: str, summary: ImportSummary, seconds: float) -> str:
    """``imported 1,000 candles of BTCUSDT 1m (2024-01-01 00:00 → 2024-01-01 16:39 UTC): 1,000 new, ...``"""
    return (
        f"imported {summary.received:,} candles of {symbol} {timeframe} "
        f"({_minute(summary.first_ts)} → {_minute(summary.last_ts)} UTC): {summary.inserted:,} new, "
        f"{summary.updated:,} updated, {summary.unchanged:,} unchanged in {seconds:.1f} s"
    )


@click.command("import-candles")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--symbol", "-s", required=True, callback=_symbol, help="Market symbol, e.g. BTCUSDT (upper-cased).")
@timeframe_option
def import_candles(file: Path, symbol: str, timeframe: str) -> None:
    """Import the candles of a CSV FILE (timestamp, open, high, low, close, volume).

    Re-importing a file changes nothing; an overlapping file merges, its
    values winning where timestamps coincide. See docs/candles.md.
    """
    started = time.perf_counter()
    try:
        candles = read_candles_csv(file)
        validate_candles(timeframe, candles)
    except (CandleFormatError, CandleDataError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    store = _store()
    progress = click.progressbar(length=bucket_count(timeframe, candles.ts), label="writing buckets", file=sys.stderr)
    with progress as bar:
        summary = store.upsert(symbol, timeframe, candles, progress=bar.update)
    click.echo(_summary_line(symbol, timeframe, summary, time.perf_counter() - started))


@click.group("candles")
def candles_group() -> None:
    """See and delete stored candles."""


@candles_group.command("list")
def list_candles() -> None:
    """List every stored symbol and timeframe with its time range and candle count."""
    ranges = _store().ranges()
    if not ranges:
        click.echo("no candles stored (import some with `tickflow import-candles`)")
    for found in ranges:
        span = f"{_minute(found.first_ts)} → {_minute(found.last_ts)} UTC"
        click.echo(f"{found.symbol:<30} {found.timeframe:>3}  {span}  {found.count:>12,} candles")


@candles_group.command("delete")
@click.option("--symbol", "-s", required=True, callback=_symbol, help="Market symbol, e.g. BTCUSDT.")
@timeframe_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_candles(symbol: str, timeframe: str, yes: bool) -> None:
    """Delete every stored candle of one symbol and timeframe."""
    if not yes:
        click.confirm(f"Delete all {symbol} {timeframe} candles?", abort=True, err=True)
    deleted = _store().delete(symbol, timeframe)
    click.echo(f"deleted {deleted:,} candles of {symbol} {timeframe}")


COMMANDS: list[click.Command] = [import_candles, candles_group]
