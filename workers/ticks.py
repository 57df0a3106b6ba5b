"""Tick batches: the one message format between market-data feeds and the live engine.

Feeds send ``tasks.live.ingest`` a batch of ticks rather than one message per tick
because Celery's per-message cost (about 1 ms of worker time, measured) would otherwise
cap the platform at a few hundred ticks per second. A batch is columnar JSON::

    {"id": "3f2a9c1b7d4e-42", "s": ["BTCUSDT", ...], "t": [ts_ms, ...], "p": [price, ...], "q": [qty, ...]}

equal-length lists, symbols upper-case, ticks of one symbol in feed order. Columns keep
the message small (no repeated field names) and decode straight into numpy arrays.

``id`` (optional) names the batch ``{source}-{number}``: the feed's run and its batch's sequence
number, with ``.{shard}`` after it for the parts of a batch split by shard (``tasks.routing``).
Ingest applies a batch id once (for ``BATCH_ID_TTL_S``), so a batch delivered twice -- redelivered
after a worker died, or sent again by a feed that could not tell whether its first send went
through -- counts once. Numbered ids let ingest mark one bit per batch (``batch_marker``) where
a key per id cost ~170 bytes of Redis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies.domain import Tick
from tickflow.storage import keys

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9._-]{1,30}$")
"""The symbols MongoDB's candle collection accepts (tickflow.storage.schema)."""
FIELDS = ("s", "t", "p", "q")
BATCH_ID_PATTERN = re.compile(r"^(?P<source>[A-Za-z0-9._:-]{1,40})-(?P<number>[0-9]{1,15})(?P<part>\.[0-9]{1,4})?$")
BATCH_BLOCK = 65_536
"""Batch numbers per marker bitmap: 8 KB, ~23 minutes of a feed at 10,000 ticks/s."""


class BadBatch(ValueError):
    """A payload that is not a valid tick batch; the message says what is wrong."""


@dataclass(frozen=True, eq=False)
class TickBatch:
    """Decoded ticks as columns; ``symbol_index[i]`` indexes ``symbols`` for tick ``i``."""

    symbols: tuple[str, ...]
    symbol_index: np.ndarray
    ts: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    batch_id: str | None = None

    def __len__(self) -> int:
        return len(self.ts)

    def ticks(self) -> list[Tick]:
        return [
            Tick(self.symbols[s], int(t), float(p), float(q))
            for s, t, p, q in zip(self.symbol_index, self.ts, self.price, self.qty)
        ]


def batch_marker(batch_id: str) -> tuple[str, int]:
    """Where ingest marks ``batch_id`` applied: its source's bitmap for this block of numbers, and its bit."""
    match = BATCH_ID_PATTERN.match(batch_id)
    if match is None:
        raise BadBatch(f"bad batch id {batch_id!r}")
    number = int(match["number"])
    source = match["source"] + (match["part"] or "")
    return keys.ingested_batches(source, number // BATCH_BLOCK), number % BATCH_BLOCK


def encode_batch(ticks: Sequence[Tick], batch_id: str | None = None) -> dict[str, Any]:
    """The JSON-able payload for ``tasks.live.ingest`` (symbols upper-cased), with its id if given."""
    return {
        **({"id": batch_id} if batch_id is not None else {}),
        "s": [tick.symbol.upper() for tick in ticks],
        "t": [int(tick.ts) for tick in ticks],
        "p": [float(tick.price) for tick in ticks],
        "q": [float(tick.qty) for tick in ticks],
    }


def decode_batch(payload: Mapping[str, Any]) -> TickBatch:
    """Check a payload and return it as columns; raise BadBatch naming the first problem."""
    if not isinstance(payload, Mapping):
        raise BadBatch(f"a tick batch is an object with keys {FIELDS}, got {type(payload).__name__}")
    missing = [field for field in FIELDS if not isinstance(payload.get(field), list)]
    if missing:
        raise BadBatch(f"tick batch field(s) {missing} missing or not lists")
    lengths = {field: len(payload[field]) for field in FIELDS}
    if len(set(lengths.values())) != 1:
        raise BadBatch(f"tick batch columns differ in length: {lengths}")
    names = payload["s"]
    symbols = tuple(dict.fromkeys(names))
    for symbol in symbols:
        if not isinstance(symbol, str) or not SYMBOL_PATTERN.match(symbol):
            raise BadBatch(f"bad symbol {symbol!r}: upper-case letters, digits and ._- (at most 30)")
    batch_id = payload.get("id")
    if batch_id is not None and not (isinstance(batch_id, str) and BATCH_ID_PATTERN.match(batch_id)):
        raise BadBatch(
            f"bad batch id {batch_id!r}: '{{source}}-{{number}}' (a source of at most 40 letters, digits and ._:-,"
            " a number of at most 15 digits), with an optional '.{shard}'"
        )
    positions = {symbol: i for i, symbol in enumerate(symbols)}
    try:
        ts = np.array(payload["t"], dtype=np.int64)
        price = np.array(payload["p"], dtype=np.float64)
        qty = np.array(payload["q"], dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise BadBatch(f"tick batch holds a non-number: {error}") from None
    if any(isinstance(t, float) and not math.isfinite(t) for t in payload["t"]) or (ts < 0).any():
        raise BadBatch("tick times must be non-negative epoch milliseconds")
    if not (np.isfinite(price).all() and (price > 0).all()):
        raise BadBatch("tick prices must be finite and positive")
    if not (np.isfinite(qty).all() and (qty >= 0).all()):
        raise BadBatch("tick quantities must be finite and not negative")
    index = np.fromiter((positions[name] for name in names), dtype=np.int32, count=len(names))
    return TickBatch(symbols, index, ts, price, qty, batch_id)
