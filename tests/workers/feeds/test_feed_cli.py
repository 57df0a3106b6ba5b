"""``tickflow feed``: bad input is one line and a non-zero exit; the process stops cleanly on SIGTERM."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import redis as redis_lib

from cli.main import main
from tests.conftest import ROOT
from tickflow.settings import get_settings

FEED_BROKER_DB = 7  # the CLI test publishes to the real "ingest" queue: keep it away from any ingest worker


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "carrier-pigeon", "--symbols", "BTCUSDT"], r"'carrier-pigeon' is not one of"),
        (["--source", "simulated"], r"Missing option '--symbols'"),
        (["--source", "simulated", "--symbols", " , "], r"give at least one symbol"),
        (["--source", "simulated", "--symbols", "BTC/USDT"], r"must be 1 to 30 characters"),
        (["--source", "replay", "--symbols", "BTCUSDT", "--timeframe", "1m", "--speed", "-1"], r"-1.0 is not a finite"),
        (["--source", "replay", "--symbols", "BTCUSDT", "--timeframe", "1m", "--speed", "nan"], r"nan is not a finite"),
        (["--source", "replay", "--symbols", "BTCUSDT", "--speed", "fast"], r"'fast' is not a valid float"),
        (["--source", "replay", "--symbols", "BTCUSDT"], r"--source replay needs --timeframe"),
        (["--source", "simulated", "--symbols", "BTCUSDT", "--speed", "2"], r"--speed applies to --source replay"),
        (["--source", "simulated", "--symbols", "BTCUSDT", "--rate", "5", "--rate-per-symbol", "1"], r"not both"),
        (["--source", "binance", "--symbols", "BTCUSDT", "--url", "http://example.com"], r"not a ws:// or wss://"),
        (["--source", "simulated", "--symbols", "BTCUSDT", "--max-buffered", "10"], r"at least 8 batches"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    assert main(["feed", *args]) == 2
    line = one_error_line(capsys)
    assert line.startswith("tickflow: ") and re.search(message, line), line


def test_replaying_candles_that_are_not_stored_exits_1_with_one_line(db, capsys):
    assert main(["feed", "--source", "replay", "--symbols", "BTCUSDT", "--timeframe", "1h"]) == 1
    assert one_error_line(capsys) == (
        "tickflow: no stored 1h candles of BTCUSDT (import some with `tickflow import-candles`)"
    )


@pytest.fixture
def feed_broker(services):
    """A broker database of the test Redis for the feed process only, emptied after."""
    url = get_settings().celery_broker_url.rsplit("/", 1)[0] + f"/{FEED_BROKER_DB}"
    yield url
    redis_lib.Redis.from_url(url).flushdb()


def test_the_feed_process_logs_rates_and_stops_on_sigterm_after_a_final_flush(feed_broker, tmp_path):
    log_path = tmp_path / "feed.log"
    env = {**os.environ, "CELERY_BROKER_URL": feed_broker}
    command = [
        sys.executable,
        "-m",
        "cli",
        "feed",
        "--source",
        "simulated",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--rate",
        "200",
        "--report-every",
        "0.3",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "ticks/s" not in log_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log_path.read_text()
    finally:
        process.kill()

    output = log_path.read_text()
    assert re.search(r"simulated feed: [\d.]+ ticks/s, [\d.]+ batches/s published", output), output
    stopped = re.search(r"simulated feed stopped: (\d+) ticks published in (\d+) batches, 0 dropped", output)
    assert stopped and int(stopped[1]) > 0, output
    queued = redis_lib.Redis.from_url(feed_broker).llen("ingest")
    assert queued == int(stopped[2])
