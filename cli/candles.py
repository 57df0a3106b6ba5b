"""``tickflow import-candles``, ``download-candles`` and ``candles``: load history from CSV files or the venue,
see and drop it.

The file is read and every candle checked before MongoDB is touched, so a bad
file fails at once with one line naming the place, and writes nothing.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from strategies.candles import TIMEFRAME_MS
from tickflow.candle_files import CandleFormatError, read_candles_csv
from tickflow.history import PACE_S, DownloadReport, HistoryInputError, VenueHistory, VenueUnavailable, download
from tickflow.settings import EXCHANGES, ExchangeSettings
from tickflow.storage.candles import (
    CandleDataError,
    CandleStore,
    ImportSummary,
    bucket_count,
    normalize_symbol,
    validate_candles,
)
from tickflow.storage.schema import ready_db
from tickflow.times import parse_time_ms
from workers.venue_limits import history_session

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


def _time(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    try:
        return None if value is None else parse_time_ms(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


class _Progress:
    """One line on stderr: rewritten in place on a terminal, a new line every tenth of the way otherwise."""

    def __init__(self, label: str) -> None:
        self.label, self.tty, self.shown = label, sys.stderr.isatty(), -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if not self.tty and percent // 10 == self.shown // 10:
            return
        self.shown = percent
        line = f"{self.label}: {done:,}/{total:,} candles ({percent}%)"
        click.echo(f"\r{line}" if self.tty else line, err=True, nl=not self.tty)

    def finish(self) -> None:
        if self.tty and self.shown >= 0:
            click.echo("", err=True)


def _download_lines(report: DownloadReport, seconds: float) -> list[str]:
    """The summary line, then one line per gap the venue's series has."""
    period = TIMEFRAME_MS[report.timeframe]
    waited = f", waited {report.waited_s:.0f} s for the venue's Retry-After" if report.waited_s else ""
    lines = [
        f"downloaded {report.symbol} {report.timeframe} from {report.exchange} "
        f"({_minute(report.start_ms)} → {_minute(report.end_ms - period)} UTC): {report.fetched:,} fetched, "
        f"{report.stored:,} stored, {report.already_present + report.unchanged:,} already present, "
        f"{len(report.gaps):,} gap{'' if len(report.gaps) == 1 else 's'} in {report.pages:,} pages and {seconds:.1f} s"
        f"{waited}"
    ]
    lines += [
        f"gap: {_minute(gap.first_ts)} → {_minute(gap.last_ts)} UTC, {gap.missing:,} candles missing (not filled)"
        for gap in report.gaps
    ]
    return lines


@click.command("download-candles")
@click.option("--exchange", "-e", type=click.Choice(EXCHANGES), help="ccxt's id of the venue [TICKFLOW_EXCHANGE].")
@click.option("--symbol", "-s", required=True, callback=_symbol, help="The venue's symbol, e.g. BTCUSDT.")
@timeframe_option
@click.option("--since", required=True, callback=_time, help="First candle: 2024-01-01, ISO-8601 or epoch (UTC).")
@click.option("--until", callback=_time, help="Stop before this time (default: the last closed candle).")
@click.option("--pace", type=click.FloatRange(0, 60), default=PACE_S, show_default=True, help="Seconds between pages.")
def download_candles(
    exchange: str | None, symbol: str, timeframe: str, since: int, until: int | None, pace: float
) -> None:
    """Download closed candles from the venue into the candle store.

    Only what is not stored yet is fetched (run it again to resume or to
    catch up); gaps in the venue's series are listed, never filled. See
    docs/exchanges.md, "History".
    """
    started = time.perf_counter()
    settings = ExchangeSettings.from_env()
    settings = dataclasses.replace(settings, exchange=exchange or settings.exchange)
    venue = VenueHistory(settings, pace, history_session(settings))
    progress = _Progress(f"downloading {symbol} {timeframe}")
    try:
        report = download(_store(), venue, symbol, timeframe, since, until, progress)
    except HistoryInputError as exc:
        raise click.UsageError(str(exc)) from None
    except (VenueUnavailable, CandleDataError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.finish()
    for line in _download_lines(report, time.perf_counter() - started):
        click.echo(line)


COMMANDS: list[click.Command] = [import_candles, download_candles, candles_group]
