"""The local Binance-speaking venue (``cli.venue``), one process for the session, reset before each test.

Adapter tests drive ``workers.exchange`` against the venue's real HTTP server, as a worker would, and read
back what the venue booked; every broker takes its requests' weight from the rate limit shared in Redis
(``workers.venue_limits``), so the venue comes with a flushed Redis.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from cli.venue import LocalVenue
from strategies.candles import COLUMNS
from tests.conftest import ROOT
from tickflow.settings import ExchangeSettings
from tickflow.synthetic import generate_candles
from workers.exchange import ExchangeBroker

API_KEY = "tfTestKey0123456789abcdefABCDEF"
API_SECRET = "tfTestSecret9876543210zyxwvZYXWV"


@pytest.fixture(scope="session")
def local_venue() -> Iterator[LocalVenue]:
    log = ROOT / "var" / "test" / f"venue-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    venue = LocalVenue.start(log, API_KEY, API_SECRET)
    yield venue
    venue.stop()


@pytest.fixture
def venue(local_venue: LocalVenue, redis) -> LocalVenue:
    """A fresh venue: BTCUSDT at 60,000 with 1 BTC of depth each side, 100,000 USDT and 1 BTC free."""
    local_venue.reset()
    local_venue.symbol(
        "BTCUSDT", "BTC", "USDT", price=60000, depth=1, step="0.00001", min_qty="0.00001", min_notional=5
    )
    local_venue.balance(USDT=100_000, BTC=1)
    return local_venue


def exchange_settings(venue: LocalVenue, **changes: object) -> ExchangeSettings:
    """Settings pointing at the local venue, as TICKFLOW_EXCHANGE_URL and the key variables would."""
    values = {"url": venue.url, "api_key": API_KEY, "api_secret": API_SECRET, "timeout_s": 2.0, **changes}
    return ExchangeSettings(**values)


@pytest.fixture
def broker(venue: LocalVenue) -> ExchangeBroker:
    return ExchangeBroker(exchange_settings(venue))


T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE = 60_000
N = 3000  # 2024-01-01 00:00 to 2024-01-03 01:59, three pages of 1,000


@pytest.fixture
def klines(venue, db, monkeypatch):
    """The venue serves N 1m candles of BTCUSDT from T0 (minus the open times a test drops); the CLI points at it."""
    monkeypatch.setenv("TICKFLOW_EXCHANGE_URL", venue.url)
    candles = generate_candles(N, start_ms=T0)

    def serve(drop: tuple[int, ...] = ()) -> np.ndarray:
        keep = np.setdiff1d(np.arange(N), drop)
        rows = [[int(candles.ts[i]), *(float(getattr(candles, c)[i]) for c in COLUMNS[1:])] for i in keep]
        venue.klines("BTCUSDT", "1m", MINUTE, rows)
        return keep

    serve.candles = candles
    return serve
