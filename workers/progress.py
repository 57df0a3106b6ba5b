"""Lockstep progress: how a replay feed knows a candle close has been fully handled.

The live engine sets ``keys.candle_processed(symbol, timeframe)`` to a closed candle's
open time once every active strategy on it went through ``execute`` (or none is
active). A deterministic replay sends the ticks of the next candle only after that,
so orders decided at a close fill at the next candle's open, as in a backtest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import redis

from tickflow.storage import keys
from tickflow.storage.scripts import lua_script

MARK_IF_LATER = lua_script("workers", "mark_if_later")


def mark_candle_processed(client: redis.Redis, symbol: str, timeframe: str, candle_open_ms: int) -> None:
    """Record that the close of the candle opened at ``candle_open_ms`` is fully handled."""
    mark_candles_processed(client, [(symbol, timeframe, candle_open_ms)])


def mark_candles_processed(client: redis.Redis, closes: Sequence[tuple[str, str, int]]) -> None:
    """``mark_candle_processed`` for many (symbol, timeframe, candle open time), in one script call."""
    if closes:
        progress_keys = [keys.candle_processed(symbol, timeframe) for symbol, timeframe, _ in closes]
        client.eval(MARK_IF_LATER, len(closes), *progress_keys, *(int(open_ms) for _, _, open_ms in closes))


def candle_processed_through(client: redis.Redis, symbol: str, timeframe: str) -> int | None:
    """Open time of the latest fully handled close, None before the first."""
    value = client.get(keys.candle_processed(symbol, timeframe))
    return None if value is None else int(value)


def wait_candle_open(client: redis.Redis, symbol: str, timeframe: str, candle_open_ms: int, timeout_s: float) -> bool:
    """Wait until the forming candle of ``symbol``/``timeframe`` is the one opened at ``candle_open_ms`` or later.

    A lockstep feed needs it once, after its very first batch: that batch closes nothing, so
    there is no close to wait on, and a second batch sent at once could be applied first
    by another worker process, making the first one late.
    """
    return _poll(lambda: _at_least(client.hget(keys.current_candle(symbol, timeframe), "t"), candle_open_ms), timeout_s)


def wait_candle_processed(
    client: redis.Redis, symbol: str, timeframe: str, candle_open_ms: int, timeout_s: float
) -> bool:
    """Wait until the close of the candle opened at ``candle_open_ms`` (or a later one) is handled.

    Polls every millisecond at first, backing off to 20 ms: a close is usually handled in a
    few milliseconds, and a replay's speed is bounded by this wait. False on timeout.
    """
    return _poll(lambda: _at_least(client.get(keys.candle_processed(symbol, timeframe)), candle_open_ms), timeout_s)


def _at_least(value: str | None, ms: int) -> bool:
    return value is not None and int(value) >= ms


def _poll(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    pause = 0.001
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 1.5, 0.02)
    return True
