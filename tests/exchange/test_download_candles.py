"""``tickflow download-candles`` against the local venue's klines: stored exactly, resumed, gaps listed, 429s waited
out, and one line with the exit code for every bad input."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from cli.localservices import free_port
from cli.main import main
from strategies.candles import COLUMNS
from tickflow.settings import ExchangeSettings
from tickflow.storage.candles import CandleStore
from workers.venue_limits import VenueLimiter, venue_name


def download(*extra: str, until: str = "2024-01-03T02:00:00Z") -> int:
    return main(["download-candles", "-s", "BTCUSDT", "-t", "1m", "--since", "2024-01-01", "--until", until, *extra])


def kline_requests(venue) -> int:
    return venue.state()["requests"].get("GET /api/v3/klines", 0)


def assert_stored_as_served(db, candles, keep: np.ndarray) -> None:
    stored = CandleStore(db).load("BTCUSDT", "1m")
    for name in COLUMNS:
        assert getattr(stored, name).tobytes() == getattr(candles, name)[keep].tobytes(), name


def test_a_download_stores_exactly_the_venues_candles_and_prints_a_summary(klines, venue, db, capsys):
    keep = klines()

    assert download() == 0

    out, err = capsys.readouterr()
    assert re.fullmatch(
        r"downloaded BTCUSDT 1m from binance \(2024-01-01 00:00 → 2024-01-03 01:59 UTC\): 3,000 fetched, "
        r"3,000 stored, 0 already present, 0 gaps in 3 pages and \d+\.\d s\n",
        out,
    ), out
    assert "downloading BTCUSDT 1m: 3,000/3,000 candles (100%)" in err
    assert_stored_as_served(db, klines.candles, keep)
    assert kline_requests(venue) == 3


def test_a_second_run_fetches_nothing_new(klines, venue, db, capsys):
    keep = klines()
    download()
    requests = kline_requests(venue)
    capsys.readouterr()

    assert download() == 0

    assert ": 0 fetched, 0 stored, 3,000 already present, 0 gaps in 0 pages" in capsys.readouterr().out
    assert kline_requests(venue) == requests
    assert_stored_as_served(db, klines.candles, keep)


def test_an_interrupted_download_resumes_after_the_last_stored_candle(klines, venue, db, capsys):
    keep = klines()
    download(until="2024-01-01T20:34:00Z")  # stopped part-way through the second page: 1,234 candles stored
    requests = kline_requests(venue)
    capsys.readouterr()

    assert download() == 0

    assert ": 1,766 fetched, 1,766 stored, 1,234 already present, 0 gaps in 2 pages" in capsys.readouterr().out
    assert kline_requests(venue) - requests == 2
    assert_stored_as_served(db, klines.candles, keep)


def test_moving_since_earlier_fetches_only_the_candles_before_the_first_stored_one(klines, venue, db, capsys):
    keep = klines()
    main(["download-candles", "-s", "BTCUSDT", "-t", "1m", "--since", "2024-01-02", "--until", "2024-01-03T02:00"])
    capsys.readouterr()

    assert download() == 0

    assert ": 1,440 fetched, 1,440 stored, 1,560 already present, 0 gaps in 2 pages" in capsys.readouterr().out
    assert_stored_as_served(db, klines.candles, keep)


def test_gaps_in_the_venues_series_are_listed_and_not_filled(klines, db, capsys):
    # five candles missing inside the first page, and five straddling the first and second pages
    keep = klines(drop=(100, 101, 102, 103, 104, 998, 999, 1000, 1001, 1002))

    assert download() == 0

    out = capsys.readouterr().out.splitlines()
    assert ": 2,990 fetched, 2,990 stored, 0 already present, 2 gaps in " in out[0]
    assert out[1:] == [
        "gap: 2024-01-01 01:40 → 2024-01-01 01:44 UTC, 5 candles missing (not filled)",
        "gap: 2024-01-01 16:38 → 2024-01-01 16:42 UTC, 5 candles missing (not filled)",
    ]
    assert_stored_as_served(db, klines.candles, keep)


def test_a_gap_right_after_the_stored_candles_is_reported_on_resume(klines, db, capsys):
    keep = klines(drop=(1500, 1501))
    download(until="2024-01-02T01:00:00Z")  # the first 1,500 candles
    capsys.readouterr()

    assert download() == 0

    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["gap: 2024-01-02 01:00 → 2024-01-02 01:01 UTC, 2 candles missing (not filled)"]
    assert_stored_as_served(db, klines.candles, keep)


def test_a_429_with_retry_after_is_waited_out_and_the_download_completes(klines, venue, db, capsys):
    keep = klines()
    venue.limits(banned_s=2)
    started = time.monotonic()

    assert download() == 0

    assert time.monotonic() - started >= 1.5
    out, err = capsys.readouterr()
    assert ": 3,000 fetched, 3,000 stored, " in out and "waited 2 s for the venue's Retry-After" in out
    assert "rate limited by binance: waiting 2 s (Retry-After)" in err
    assert_stored_as_served(db, klines.candles, keep)


def test_a_download_takes_its_requests_weight_from_the_venues_budget_shared_with_trading(klines, venue, redis):
    klines()
    settings = ExchangeSettings.from_env()
    assert venue_name(settings, signed=False) == venue_name(settings)  # one venue URL: one budget with trading
    shared = VenueLimiter(redis, venue_name(settings))
    seconds, _ = redis.time()
    if seconds % 60 > 40:  # the budget counts per minute: start in one the download cannot outlast
        time.sleep(60 - seconds % 60)

    assert download() == 0

    assert shared.usage().used >= 20 + 3 * 2  # exchangeInfo, and three pages of klines at 2 each


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["-e", "kraken"], 2, "Invalid value for '--exchange' / '-e': 'kraken' is not 'binance'."),
        (["-s", "NOPE"], 2, "symbol 'NOPE' is not a spot market on binance"),
        (["-t", "2m"], 2, "Invalid value for '--timeframe' / '-t': '2m' is not one of"),
        (["--since", "yesterday"], 2, "Invalid value for '--since': 'yesterday' is not an ISO-8601 time"),
        (["--since", "2024-01-03"], 2, "--since 2024-01-03T00:00:00Z is not before --until 2024-01-02T00:00:00Z"),
        (["--since", "2999-01-01", "--until", "2999-01-02"], 2, "no closed 1m candle opens between"),
    ],
)
def test_a_bad_input_prints_one_line_saying_what_to_fix_and_exits_2(klines, db, capsys, args, code, message):
    klines()
    base = ["download-candles", "-s", "BTCUSDT", "-t", "1m", "--since", "2024-01-01", "--until", "2024-01-02"]

    assert main(base + args) == code

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tickflow: ") and message in lines[0], lines
    assert CandleStore(db).ranges() == []


def test_an_unreachable_venue_prints_one_line_and_exits_1_like_any_unreachable_service(db, capsys, monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("TICKFLOW_EXCHANGE_URL", f"http://127.0.0.1:{port}")

    assert download() == 1

    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"tickflow: cannot reach binance at http://127.0.0.1:{port} (no connection); "
        "check the network or TICKFLOW_EXCHANGE_URL, then run again to resume"
    ], lines
