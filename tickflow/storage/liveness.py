"""Is every live symbol still ticking? A symbol is *stale* when an active strategy trades it and no tick
came for ``STALE_PERIODS`` periods of the shortest timeframe it is traded on.

A silent feed otherwise looks like a quiet market: no close, no signal, no error. ``tickflow status``
(exit 1), ``GET /api/v1/status``, ``GET /api/v1/health`` (``degraded``) and a ``stale`` event on the
live stream (``workers.maintenance.check_liveness``) all read it from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from strategies.candles import TIMEFRAME_MS
from tickflow.storage import keys
from tickflow.storage.active import active_entries

STALE_PERIODS = 2


@dataclass(frozen=True)
class SymbolFreshness:
    symbol: str
    timeframe: str
    """The shortest timeframe an active strategy trades it on: what sets its deadline."""
    last_tick: int | None
    """Epoch ms of its latest tick; None before the first."""
    age_s: float | None
    stale: bool


def symbol_freshness(client: redis.Redis, now_ms: int | None = None) -> list[SymbolFreshness]:
    """Every symbol active strategies trade, by name. One never ticked is stale once its strategies have
    been active that long."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    shortest: dict[str, str] = {}
    started: dict[str, int] = {}
    for entry in active_entries(client).values():
        for symbol in entry.symbols:
            if symbol not in shortest or TIMEFRAME_MS[entry.timeframe] < TIMEFRAME_MS[shortest[symbol]]:
                shortest[symbol] = entry.timeframe
            started[symbol] = min(started.get(symbol, now_ms), entry.since or now_ms)
    symbols = sorted(shortest)
    pipe = client.pipeline(transaction=False)
    for symbol in symbols:
        pipe.hget(keys.last_tick(symbol), "ts")
    rows = []
    for symbol, raw in zip(symbols, pipe.execute()):
        last = None if raw is None else int(raw)
        quiet_ms = now_ms - (started[symbol] if last is None else last)
        rows.append(
            SymbolFreshness(
                symbol=symbol,
                timeframe=shortest[symbol],
                last_tick=last,
                age_s=None if last is None else round((now_ms - last) / 1000, 3),
                stale=quiet_ms > STALE_PERIODS * TIMEFRAME_MS[shortest[symbol]],
            )
        )
    return rows


def stale_problem(row: SymbolFreshness) -> str:
    """One line for ``problems``: which symbol, how long, and what to look at."""
    quiet = "no tick yet" if row.age_s is None else f"no tick for {row.age_s:,.0f} s"
    return (
        f"{row.symbol} is stale: {quiet}, over {STALE_PERIODS} periods of {row.timeframe} "
        f"(is the feed running? `tickflow status`, docs/operations.md)"
    )
