"""Warming a live working set from stored history, so a strategy started live trades at its next close.

A working set (``keys.closed_candles``) otherwise fills only as the feed closes candles: a
strategy whose indicators need 200 bars would do nothing for 200 candle periods after it is
started, or after Redis came back empty. ``warm_up`` prepends the most recent candles of
``historical_candles`` that are older than anything the feed has closed or is forming, so the
list stays in time order, holds each candle once, and the feed's own candles always win over
stored ones for the same time.

History goes before the feed's own time, never the clock's: a symbol with no live data yet (no
closed candle, forming candle or last tick) *waits* for its first tick, because a replay feed
may be about to send candles older than the newest stored ones. While some set waits, the epoch
key holds a waiting mark instead of a time (``waiting_mark``) and ``recovery.ensure_live_state``,
run before every tick batch, warms the sets whose symbol has ticked since; after ``WAIT_S`` the
rest are left to fill from the feed.

Race-free against ingest (and against another warm-up of the same list): the rows are chosen
from a snapshot -- the list's length and head, the forming candle, the last tick, the cap -- and
the PREPEND script writes them only if the list's head is still the one read and no forming
candle is at or before the newest row. Ingest only appends at the tail and trims at the head, so
an unchanged head means every chosen row is still older than the whole list; a moved head
(another warm-up got there first, a trim past the cap) starts over from a new snapshot.

Best effort: when MongoDB cannot be read the warm-up is skipped with a warning and the working
sets fill from the feed, as they would without history.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import redis
from pymongo.errors import PyMongoError

from strategies.candles import TIMEFRAME_MS
from tickflow.storage import keys
from tickflow.storage.candle_rows import format_rows
from tickflow.storage.candles import CandleStore
from tickflow.storage.scripts import lua_script

log = logging.getLogger(__name__)

ATTEMPTS = 5
"""Snapshots tried per working set; each lost one means the list changed in between, which is rare."""
WAIT_S = 600
"""How long working sets wait for their symbol's first tick before they are left to fill from the feed."""
WAITING = "waiting-for-ticks"
"""Prefix of the epoch's value while some working set waits: ``waiting-for-ticks <deadline ms> <nonce>``."""

PREPEND = lua_script("workers", "prepend")

END_WAITING = lua_script("workers", "end_waiting")


@dataclass(frozen=True)
class Snapshot:
    """One working set as read in one go."""

    symbol: str
    timeframe: str
    length: int
    head: str
    """The list's first row ('' if it is empty)."""
    cap: int
    before: int | None
    """Open time of the oldest candle the feed has closed or is forming; None with no live data yet."""


@dataclass(frozen=True)
class Plan:
    """Stored candles chosen to fill ``seen`` up to its cap."""

    seen: Snapshot
    rows: list[str]
    """Oldest first, all older than ``seen.before``."""
    newest: int
    """Open time of the newest row."""

    @property
    def gap(self) -> int:
        """Candles missing between the stored history and the live candles that follow it."""
        return (self.seen.before - self.newest) // TIMEFRAME_MS[self.seen.timeframe] - 1


@dataclass
class Warmed:
    """What ``warm_up`` did: candles prepended per symbol, and the symbols still waiting for a first tick."""

    added: dict[str, int] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)


def snapshot(client: redis.Redis, symbol: str, timeframe: str, bars: int) -> Snapshot:
    """``symbol``'s ``timeframe`` working set and what the feed did on it; its cap is at least ``bars``."""
    list_key = keys.closed_candles(symbol, timeframe)
    pipe = client.pipeline()  # MULTI: one consistent view
    pipe.llen(list_key)
    pipe.lindex(list_key, 0)
    pipe.hget(keys.current_candle(symbol, timeframe), "t")
    pipe.hget(keys.last_tick(symbol), "ts")
    pipe.hget(keys.live_timeframes(), symbol)
    length, head, forming, last_tick, frames = pipe.execute()
    cap = max(bars, json.loads(frames).get(timeframe, 0) if frames else 0)
    return Snapshot(
        symbol, timeframe, length, head or "", cap, _first_live(head, forming, last_tick, TIMEFRAME_MS[timeframe])
    )


def plan(store: CandleStore, seen: Snapshot) -> Plan | None:
    """The stored candles that fill ``seen`` up to its cap; None if none is stored before its live candles.

    Raises PyMongoError if MongoDB cannot be read.
    """
    history = store.last(seen.symbol, seen.timeframe, seen.before, seen.cap - seen.length)
    return Plan(seen, format_rows(history), int(history.ts[-1])) if len(history) else None


def prepend(client: redis.Redis, chosen: Plan) -> bool:
    """Write ``chosen``'s rows in front of the list if it has not moved since the snapshot; True if written."""
    seen = chosen.seen
    script = client.register_script(PREPEND)
    written = script(
        keys=[keys.closed_candles(seen.symbol, seen.timeframe), keys.current_candle(seen.symbol, seen.timeframe)],
        args=[seen.head, seen.cap, chosen.newest, *chosen.rows],
    )
    return int(written) >= 0


def warm_up(
    client: redis.Redis,
    store: CandleStore,
    symbols: Iterable[str],
    timeframe: str,
    bars: int,
    strategy_id: str | None = None,
) -> Warmed:
    """Fill each symbol's working set that holds fewer than ``bars`` closed candles (see the module docstring).

    Never raises for MongoDB: warm-up is best effort, so a strategy still starts when history is unreadable.
    """
    warmed = Warmed()
    for symbol in symbols:
        fields = {"symbol": symbol, "timeframe": timeframe, "strategy_id": strategy_id}
        try:
            added = _warm_one(client, store, symbol, timeframe, bars, fields)
        except PyMongoError as error:
            log.warning(
                "warm-up skipped: historical candles unreadable (%s); the working set fills from the feed",
                error,
                extra=fields,
            )
            break  # the next symbol would wait for the same server just as long
        if added is None:
            warmed.waiting.append(symbol)
        else:
            warmed.added[symbol] = added
    return warmed


def waiting_mark(now_ms: int | None = None) -> str:
    """The epoch's value while working sets wait for their first tick, until ``WAIT_S`` from now."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{WAITING} {now_ms + WAIT_S * 1000} {uuid.uuid4().hex[:8]}"


def is_waiting(epoch: str) -> bool:
    return epoch.startswith(WAITING)


def wait_over(epoch: str, now_ms: int | None = None) -> bool:
    """Whether the waiting mark ``epoch`` has passed its deadline."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return now_ms >= int(epoch.split()[1])


def end_waiting(client: redis.Redis, epoch: str, built: str) -> bool:
    """Replace the waiting mark ``epoch`` by ``built`` unless another mark replaced it meanwhile."""
    return bool(client.register_script(END_WAITING)(keys=[keys.live_epoch()], args=[epoch, built]))


def _warm_one(
    client: redis.Redis, store: CandleStore, symbol: str, timeframe: str, bars: int, fields: dict
) -> int | None:
    """Candles prepended to one working set; None if it has to wait for its symbol's first tick."""
    for _ in range(ATTEMPTS):
        seen = snapshot(client, symbol, timeframe, bars)
        if seen.length >= bars:
            return 0
        if seen.before is None:
            return None
        chosen = plan(store, seen)
        if chosen is None:
            return 0
        if prepend(client, chosen):
            if chosen.gap > 0:
                log.warning(
                    "warm-up: stored history ends %d candle(s) before the live working set; indicators span the gap",
                    chosen.gap,
                    extra=fields,
                )
            return len(chosen.rows)
    log.warning("warm-up gave up: the working set kept changing (%d attempts)", ATTEMPTS, extra=fields)
    return 0


def _first_live(head: str | None, forming: str | None, last_tick: str | None, period: int) -> int | None:
    """Open time of the oldest candle the feed has closed or will close next: history must be older.

    The list's head; else the forming candle; else the candle of the last tick (the forming candle of
    a timeframe ingest did not keep yet starts there or later); None if the symbol never ticked.
    """
    if head:
        return int(head.split(",", 1)[0])
    if forming is not None:
        return int(forming)
    if last_tick is not None:
        return int(last_tick) - int(last_tick) % period
    return None
