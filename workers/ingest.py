"""Folding a tick batch into Redis: last prices, forming candles, closes, late ticks, price paths.

The batch is first reduced in numpy to *segments*: for each symbol, timeframe and candle,
the open (earliest tick), high, low, close (latest tick), volume and tick count of the
batch's ticks in that candle. One Lua script then merges every segment into Redis, so a
batch is applied atomically and batches from several workers serialize in Redis:

* a segment of the forming candle merges into it (open from the earliest tick time,
  close from the latest, ties going to the tick that arrived first / last);
* a segment of a later candle closes the forming one -- the close is decided here,
  inside the script, so each candle closes exactly once -- pushes it onto the capped
  working set and starts the new one;
* a segment of an earlier candle arrived after its candle closed: its ticks are counted
  in ``keys.late_ticks()`` and not applied. With no forming candle (its hash lost, say
  evicted), "closed" means at or before the working set's newest candle, so a candle is
  never closed twice or out of order.

Within one batch, ticks are grouped by candle in time order, so a batch that holds the
end of one candle and the start of the next is never late for itself.

Before any of that, ``quarantine.Screen`` takes out ticks that cannot be right (stamped in the
future, or priced far off the last price), and a batch whose id was applied already is skipped
whole: the script checks and records the id atomically with the batch's changes, so a batch
delivered twice (``workers.ticks``) counts once.

Every applied one-minute segment also goes onto the symbol's price-path stream: the
batch's first price, high and low within that minute. A segment that continues a minute
already started starts instead from that minute's close so far (the price before the
batch), its range widened to include it: within a candle prices are continuous, so only
a candle's open can gap past a stop, exactly as in a backtest bar. Stops, targets and trailing stops
are checked against these ranges (``positions.advance``), at minute granularity because
every timeframe's candle boundary is a minute boundary.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import redis

from strategies.candles import TIMEFRAME_MS
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.events import publish
from tickflow.storage.scripts import lua_script
from workers.quarantine import Quarantined, Screen
from workers.ticks import TickBatch, batch_marker

log = logging.getLogger(__name__)

DASHBOARD_TIMEFRAME = "1m"
"""Always kept for every symbol: the dashboard's candles and the price path's granularity."""

INGEST = lua_script("workers", "ingest")
BATCH_ID_TTL_S = 86_400
"""How long applied batch ids are remembered after a source's last batch: far longer than a redelivery (the
30 s visibility timeout) or a feed's resend. A bit per batch makes a day cheap: ~47 batches/s at 10,000 ticks/s
is ~0.5 MB a day, where a key per id took ~15 MB an hour (bench/soak.py, 2026-12-05)."""


@dataclass(frozen=True)
class Close:
    """A candle of ``symbol``/``timeframe`` closed by the first tick of the candle opened at ``next_open``."""

    symbol: str
    timeframe: str
    open_time: int
    next_open: int


@dataclass(frozen=True)
class Applied:
    closes: list[Close]
    late: int
    path_symbols: tuple[str, ...]
    """Symbols whose price path got new entries (the ones stops may need checking on)."""
    quarantined: list[Quarantined] = field(default_factory=list)
    duplicate: bool = False
    """The batch's id was applied before: nothing was done."""


def working_sets(client: redis.Redis) -> Mapping[str, dict[str, int]]:
    """Symbol -> {timeframe: working-set length} that active strategies need; see ``active``."""
    return {symbol: json.loads(raw) for symbol, raw in client.hgetall(keys.live_timeframes()).items()}


class Ingestor:
    """Applies tick batches to Redis with the INGEST script."""

    def __init__(self, client: redis.Redis, settings: LiveSettings) -> None:
        self.redis = client
        self.min_bars = settings.min_bars
        self.path_length = settings.path_length
        self.events_length = settings.events_length
        self.screen = Screen(
            int(settings.max_tick_skew_s * 1000), settings.price_band, int(settings.price_band_window_s * 1000)
        )
        self._script = client.register_script(INGEST)

    def apply(self, batch: TickBatch, now_ms: int | None = None) -> Applied:
        """Screen ``batch`` against the host clock (``now_ms``, epoch ms) and its symbols' last prices, then
        apply what is left to the timeframes active strategies need (``working_sets``; others get 1m only)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.live_timeframes())
        for name in batch.symbols:
            pipe.hmget(keys.last_tick(name), ["ts", "p"])
        frames, *ticks = pipe.execute()
        timeframes = {symbol: json.loads(raw) for symbol, raw in frames.items()}
        last = {name: (int(ts), float(p)) for name, (ts, p) in zip(batch.symbols, ticks) if ts is not None}
        batch, quarantined = self.screen.apply(batch, last, int(time.time() * 1000) if now_ms is None else now_ms)
        if not len(batch) and not quarantined and batch.batch_id is None:
            return Applied([], 0, ())
        order = np.lexsort((batch.ts, batch.symbol_index))  # stable: equal times keep feed order
        sym = batch.symbol_index[order]
        ts, price, qty = batch.ts[order], batch.price[order], batch.qty[order]
        per_symbol = {name: timeframes.get(name) or {DASHBOARD_TIMEFRAME: self.min_bars} for name in batch.symbols}
        used = {tf for frames in per_symbol.values() for tf in frames} | {DASHBOARD_TIMEFRAME}
        segments = {tf: _segments(sym, ts, price, qty, TIMEFRAME_MS[tf]) if len(sym) else {} for tf in used}
        symbol_ends = np.flatnonzero(np.r_[sym[1:] != sym[:-1], True]) if len(sym) else []

        batch_key, batch_bit = batch_marker(batch.batch_id) if batch.batch_id is not None else ("", 0)
        key_list = [keys.late_ticks(), keys.live_events(), batch_key, keys.quarantined_ticks()]
        symbols = []
        for end in symbol_ends:
            name = batch.symbols[sym[end]]
            frames = {DASHBOARD_TIMEFRAME: self.min_bars, **per_symbol[name]}
            entry = {"name": name, "tick": [int(ts[end]), repr(float(price[end])), repr(float(qty[end]))], "tfs": []}
            key_list += [keys.last_tick(name), keys.price_path(name)]
            for tf, cap in frames.items():
                entry["tfs"].append(
                    {
                        "tf": tf,
                        "cap": max(int(cap), 1),
                        "path": tf == DASHBOARD_TIMEFRAME,
                        "segs": segments[tf].get(int(sym[end]), []),
                    }
                )
                key_list += [keys.current_candle(name, tf), keys.closed_candles(name, tf)]
            symbols.append(entry)
        counts: dict[str, int] = {}
        for found in quarantined:
            counts[found.symbol] = counts.get(found.symbol, 0) + found.count
        argument = {
            "symbols": symbols,
            "path_len": self.path_length,
            "events_len": self.events_length,
            "batch_ttl": BATCH_ID_TTL_S if batch.batch_id is not None else 0,
            "batch_bit": batch_bit,
            "quarantined": counts,
        }
        reply = self._script(keys=key_list, args=[json.dumps(argument)])
        if int(reply[0]) < 0:
            log.info("ingest: batch %s was applied before; skipped", batch.batch_id)
            return Applied([], 0, (), duplicate=True)
        if quarantined:
            self._report(quarantined)
        closes = [Close(reply[i], reply[i + 1], int(reply[i + 2]), int(reply[i + 3])) for i in range(1, len(reply), 4)]
        return Applied(closes, int(reply[0]), tuple(entry["name"] for entry in symbols), quarantined)

    def _report(self, quarantined: list[Quarantined]) -> None:
        """A ``quarantine`` event and a log line per symbol and rule."""
        pipe = self.redis.pipeline(transaction=False)
        for found in quarantined:
            publish(pipe, "quarantine", found.to_dict(), self.events_length)
            log.warning(
                "ingest: quarantined %d %s tick(s) of %s (first at %d, price %g against %g)",
                found.count,
                found.reason.replace("_", " "),
                found.symbol,
                found.ts,
                found.price,
                found.reference,
                extra={"symbol": found.symbol},
            )
        pipe.execute()


def _segments(sym: np.ndarray, ts: np.ndarray, price: np.ndarray, qty: np.ndarray, period: int) -> dict[int, list]:
    """Symbol index -> its candles' segments in time order, for ticks sorted by symbol then time."""
    bucket = ts - ts % period
    starts = np.flatnonzero(np.r_[True, (sym[1:] != sym[:-1]) | (bucket[1:] != bucket[:-1])])
    ends = np.r_[starts[1:], len(ts)] - 1
    high = np.maximum.reduceat(price, starts)
    low = np.minimum.reduceat(price, starts)
    volume = np.add.reduceat(qty, starts)
    result: dict[int, list] = {}
    for i, (first, last) in enumerate(zip(starts.tolist(), ends.tolist())):
        result.setdefault(int(sym[first]), []).append([
            int(bucket[first]), int(ts[first]), repr(float(price[first])), repr(float(high[i])), repr(float(low[i])),
            int(ts[last]), repr(float(price[last])), repr(float(volume[i])), last - first + 1,
        ])  # fmt: skip
    return result
