"""Candle history from the venue into the candle store: paged, resumable, idempotent, polite.

``download`` asks the venue (ccxt's ``fetch_ohlcv``, Binance's ``GET /api/v3/klines``) for the
closed candles of ``[since, until)`` that the store does not hold yet and stores each page as it
arrives, so an interrupted download keeps what it got and the next run starts after the last
stored candle (and fills in before the first, if ``since`` moved earlier). Holes *inside* the
stored range are not asked for again: they are what the venue reported missing last time.

The venue's series may skip candles (an outage, a halted market). Those gaps are listed in the
report and never filled: a made-up candle would be traded on as if it had happened.

It is free of Celery and of the CLI, so a command and a later background job share it: the caller
gives a ``progress`` callback and prints the ``DownloadReport``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ccxt
import numpy as np
import requests

from strategies.candles import PRICE_COLUMNS, TIMEFRAME_MS, Candles
from strategies.domain import iso_time
from tickflow.exchange_client import ccxt_client
from tickflow.settings import ExchangeSettings
from tickflow.storage.candles import CandleStore, validate_candles

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000
"""Candles per request: Binance spot's maximum for klines."""
PACE_S = 0.2
"""The least time between two page requests: 300 requests (600 weight) a minute, a tenth of Binance's limit."""
RATE_LIMITED_TRIES = 5
"""How many 429/418 answers in a row are waited out before giving up."""
FALLBACK_RETRY_AFTER_S = 10.0
"""The wait after a 429 that carries no ``Retry-After``."""


class HistoryInputError(ValueError):
    """An argument the venue or the clock rules out (unknown symbol or timeframe, empty range): one line."""


class VenueUnavailable(RuntimeError):
    """The venue could not be asked or kept refusing: one line; running again resumes."""


@dataclass(frozen=True)
class Gap:
    """Candles the venue's series lacks: open times ``first_ts`` to ``last_ts``, both missing."""

    first_ts: int
    last_ts: int
    period_ms: int

    @property
    def missing(self) -> int:
        return (self.last_ts - self.first_ts) // self.period_ms + 1


@dataclass
class DownloadReport:
    """What a download did, in candles, over the requested range ``[start_ms, end_ms)`` of closed candles."""

    exchange: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    already_present: int = 0
    """Stored before this run within the range, so not asked for."""
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    pages: int = 0
    waited_s: float = 0.0
    """Time spent waiting out the venue's ``Retry-After``."""
    gaps: list[Gap] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.inserted + self.updated


class VenueHistory:
    """The venue's candles through one unsigned ccxt client, paced and honouring ``Retry-After``.

    ``session``: the ``requests`` session to send through; the CLI and the download job give the one that takes
    each request's weight from the venue's budget shared in Redis (``workers.venue_limits.history_session``),
    so a download never spends what trading on the same venue needs.
    """

    def __init__(self, settings: ExchangeSettings, pace_s: float = PACE_S, session: requests.Session | None = None):
        self.settings = settings
        self.pace_s = pace_s
        self._client = ccxt_client(settings, signed=False, session=session)
        self._last_request = 0.0
        self.waited_s = 0.0

    def market(self, symbol: str, timeframe: str) -> str:
        """ccxt's unified symbol for the venue's ``symbol`` (``BTCUSDT``), checking both it and ``timeframe``."""
        if timeframe not in self._client.timeframes:
            raise HistoryInputError(f"timeframe {timeframe!r} is not offered by {self.settings.exchange}")
        self._call(self._client.load_markets)
        markets = self._client.markets_by_id.get(symbol)
        if not markets:
            raise HistoryInputError(f"symbol {symbol!r} is not a spot market on {self.settings.exchange}")
        return markets[0]["symbol"]

    def candles(self, unified: str, timeframe: str, start_ms: int, end_ms: int) -> list[list]:
        """Up to ``PAGE_LIMIT`` candles opened in ``[start_ms, end_ms)``, the earliest first, as the venue has them."""
        rows = self._call(self._client.fetch_ohlcv, unified, timeframe, start_ms, PAGE_LIMIT, {"until": end_ms - 1})
        return [row for row in rows if start_ms <= row[0] < end_ms]

    def _call(self, method: Callable[..., Any], *args: object) -> Any:
        """One request, no sooner than ``pace_s`` after the last; a 429/418 is waited out for its Retry-After."""
        for _ in range(RATE_LIMITED_TRIES):
            pause = self._last_request + self.pace_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last_request = time.monotonic()
            self._client.last_response_headers = None
            try:
                return method(*args)
            except (ccxt.DDoSProtection, ccxt.RateLimitExceeded) as exc:
                # the shared budget's refusal says how long (``wait_s``: nothing was sent); the venue's, its header
                wait = getattr(exc, "wait_s", None) or self._retry_after()
                log.warning("rate limited by %s: waiting %.0f s (Retry-After)", self.settings.exchange, wait)
                time.sleep(wait)
                self.waited_s += wait
            except ccxt.BadSymbol as exc:
                raise HistoryInputError(f"{self.settings.exchange} does not know the symbol: {exc}") from None
            except ccxt.NetworkError as exc:
                how = (
                    f"no answer in {self.settings.timeout_s:g} s"
                    if isinstance(exc, ccxt.RequestTimeout)
                    else "no connection"
                )
                raise VenueUnavailable(
                    f"cannot reach {self.settings.exchange} at {self._where()} ({how}); "
                    "check the network or TICKFLOW_EXCHANGE_URL, then run again to resume"
                ) from None
            except ccxt.BaseError as exc:
                raise VenueUnavailable(f"{self.settings.exchange} refused the request: {_first_line(exc)}") from None
        raise VenueUnavailable(
            f"{self.settings.exchange} rate-limited {RATE_LIMITED_TRIES} requests in a row; run again later to resume"
        )

    def _retry_after(self) -> float:
        headers = self._client.last_response_headers or {}
        try:
            return max(float(headers.get("Retry-After", FALLBACK_RETRY_AFTER_S)), 0.0)
        except ValueError:
            return FALLBACK_RETRY_AFTER_S

    def _where(self) -> str:
        return self.settings.url or self._client.urls["api"]["public"]


def closed_range(timeframe: str, since_ms: int, until_ms: int | None, now_ms: int) -> tuple[int, int]:
    """``[start, end)`` of the open times of closed candles from ``since_ms`` (rounded up to a bar) to
    ``until_ms`` (exclusive; now when None): a candle still forming is never stored, or resuming would skip
    its final values."""
    period = TIMEFRAME_MS[timeframe]
    start = -(-since_ms // period) * period
    last_closed_end = now_ms // period * period
    if until_ms is not None and since_ms >= until_ms:
        raise HistoryInputError(f"--since {iso_time(since_ms)} is not before --until {iso_time(until_ms)}")
    end = last_closed_end if until_ms is None else min(until_ms, last_closed_end)
    if start >= end:
        raise HistoryInputError(
            f"no closed {timeframe} candle opens between {iso_time(since_ms)} and {iso_time(end)}: move --since earlier"
        )
    return start, end


def download(
    store: CandleStore,
    venue: VenueHistory,
    symbol: str,
    timeframe: str,
    since_ms: int,
    until_ms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DownloadReport:
    """Fetch and store the closed candles of ``[since_ms, until_ms)`` the store lacks; what was done.

    ``progress(done, total)`` is called after each page, in candle slots of the missing range.
    Raises ``HistoryInputError`` or ``VenueUnavailable`` (what is stored by then stays).
    """
    period = TIMEFRAME_MS[timeframe]
    start, end = closed_range(timeframe, since_ms, until_ms, int(time.time() * 1000))
    unified = venue.market(symbol, timeframe)
    report = DownloadReport(venue.settings.exchange, symbol, timeframe, start, end)
    first, total = store.page(symbol, timeframe, start, end, 0, 1)
    report.already_present = total
    last = store.page(symbol, timeframe, start, end, total - 1, 1)[0] if total else first
    missing = list(_missing(start, end, period, first, last))
    slots, done = sum((hi - lo) // period for lo, hi, _, _ in missing), 0
    for lo, hi, before, after in missing:
        previous, cursor = before, lo
        while cursor < hi:
            rows = venue.candles(unified, timeframe, cursor, hi)
            report.pages += 1
            if rows:
                previous = _store_page(store, symbol, timeframe, rows, previous, report)
            advanced = rows[-1][0] + period if rows else hi
            done += (advanced - cursor) // period
            cursor = advanced
            if progress is not None:
                progress(done, slots)
        if previous is not None and after is not None and after - previous > period:
            report.gaps.append(Gap(previous + period, after - period, period))
    report.waited_s = venue.waited_s
    report.gaps.sort(key=lambda gap: gap.first_ts)
    return report


def _missing(
    start: int, end: int, period: int, first: Candles, last: Candles
) -> Iterator[tuple[int, int, int | None, int | None]]:
    """The ranges to fetch, ``(lo, hi, stored candle just before, stored candle just after)``: the whole range
    when nothing is stored, else before the first stored candle and after the last."""
    if not len(first):
        yield start, end, None, None
        return
    first_ts, last_ts = int(first.ts[0]), int(last.ts[-1])
    if start < first_ts:
        yield start, first_ts, None, first_ts
    if last_ts + period < end:
        yield last_ts + period, end, last_ts, None


def _store_page(
    store: CandleStore, symbol: str, timeframe: str, rows: list[list], previous: int | None, report: DownloadReport
) -> int:
    """Store one page and note the gaps in it (and between it and ``previous``); its last open time."""
    period = TIMEFRAME_MS[timeframe]
    ts = np.array([row[0] for row in rows], dtype=np.int64)
    opens = np.concatenate(([previous], ts)) if previous is not None else ts
    for index in np.flatnonzero(np.diff(opens) > period):
        report.gaps.append(Gap(int(opens[index]) + period, int(opens[index + 1]) - period, period))
    columns = np.array([row[1:6] for row in rows], dtype=np.float64)
    candles = Candles.from_columns({"ts": ts, **{name: columns[:, i] for i, name in enumerate(PRICE_COLUMNS)}})
    validate_candles(timeframe, candles)
    summary = store.upsert(symbol, timeframe, candles)
    report.fetched += len(candles)
    report.inserted += summary.inserted
    report.updated += summary.updated
    report.unchanged += summary.unchanged
    return int(ts[-1])


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
