"""Live-engine settings, read from the environment once per process.

They are separate from ``tickflow.settings`` because only the live workers use them,
and each has a sensible default, so nothing needs configuring to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from tickflow.settings import env_number
from tickflow.storage.events import EVENTS_LENGTH


@dataclass(frozen=True)
class LiveSettings:
    min_bars: int = 500
    """The shortest working set of closed candles kept per symbol and timeframe."""
    warmup_multiple: int = 10
    """A strategy gets at least this many times its warm-up bars of history. EMA, RSI, ATR and
    MACD depend on how much history they start from; 10x the warm-up makes the difference
    from a backtest over all history negligible (see docs/live-engine.md)."""
    stale_candles: float = 1.0
    """Work on a close that arrives more than this many candle periods late is dropped, not traded."""
    chain_batch: int = 500
    """Most strategies one decide -> execute chain carries."""
    path_length: int = 10_000
    """Entries kept in each symbol's price-path stream (what stops are checked against)."""
    events_length: int = EVENTS_LENGTH
    """Entries kept in the events stream that the stream process serves."""
    order_claim_days: int = 30
    """How long an order claim (and so the protection against a second send) is kept."""

    @classmethod
    def from_env(cls) -> LiveSettings:
        env = os.environ
        return cls(
            min_bars=env_number(env, "TICKFLOW_LIVE_MIN_BARS", cls.min_bars, int),
            warmup_multiple=env_number(env, "TICKFLOW_LIVE_WARMUP_MULTIPLE", cls.warmup_multiple, int),
            stale_candles=env_number(env, "TICKFLOW_LIVE_STALE_CANDLES", cls.stale_candles, float),
            chain_batch=env_number(env, "TICKFLOW_LIVE_CHAIN_BATCH", cls.chain_batch, int),
        )


@lru_cache(maxsize=1)
def live_settings() -> LiveSettings:
    return LiveSettings.from_env()
