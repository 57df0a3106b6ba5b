"""Historical candles in MongoDB, stored as column buckets so backtests load millions of bars at once.

One document per (symbol, timeframe, bucket). A bucket spans ``BUCKET_BARS``
bars of its timeframe (a day of 1m bars, five days of 5m, 60 days of 1h, about
four years of 1d) and starts at a multiple of that span since the epoch. It
holds its candles as packed little-endian columns (``ts`` int64 epoch ms of the
open, ``open``/``high``/``low``/``close``/``volume`` float64) plus ``count``,
``first_ts``, ``last_ts`` and a ``version`` bumped by every rewrite. Loading a
million 1m bars is one sorted query over ~700 documents whose columns are
joined straight into numpy arrays, under 0.1 s; one document per candle
takes 3 to 9 s, and 30 times longer to insert (see ``bench/candles.py``).

Writes keep three promises:

* Nothing invalid gets in: the whole input is checked (see
  :func:`validate_candles`) before the first bucket is written.
* A bucket is never half-written: each is one document replaced in one
  operation, conditional on the version that was read, so two imports racing
  into the same bucket cannot overwrite each other; the loser re-reads the
  bucket, merges again and retries.
* Importing is idempotent: new values win for a timestamp already stored,
  other stored candles are kept, and a bucket whose merged bytes equal what is
  stored is not rewritten at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymongo import ReplaceOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from strategies.candles import (
    COLUMNS,
    PRICE_COLUMNS,
    SYMBOL_PATTERN,
    TIMEFRAME_MS,
    Candles,
)
from strategies.domain import iso_time
from tickflow.storage.schema import HISTORICAL_CANDLES

BUCKET_BARS = 1440

_DTYPES = {"ts": np.dtype("<i8"), **{name: np.dtype("<f8") for name in PRICE_COLUMNS}}
_COLUMN_PROJECTION = {"_id": 0, **dict.fromkeys(COLUMNS, 1)}
_EXTENT_PROJECTION = {"_id": 0, "start": 1, "count": 1, "first_ts": 1, "last_ts": 1}
_WRITE_BATCH = 32  # buckets per bulk write: ~2 MB, and the progress granularity
_MAX_ATTEMPTS = 50  # per bucket; only reached if other writers keep winning the race
_DUPLICATE_KEY = 11000
_EXTENT_INDEX = "symbol_timeframe_start_extent"  # declared in tickflow.storage.schema


class CandleDataError(ValueError):
    """A symbol, timeframe or candle is not acceptable; the message is one line."""


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, counted in candles (except ``buckets_written`` and ``conflicts``).

    ``conflicts`` counts bucket writes that lost a race with a concurrent import
    and were merged again; they are retried, never lost.
    """

    received: int
    inserted: int
    updated: int
    unchanged: int
    buckets_written: int
    first_ts: int | None
    last_ts: int | None
    conflicts: int = 0


@dataclass(frozen=True)
class SymbolRange:
    symbol: str
    timeframe: str
    first_ts: int
    last_ts: int
    count: int


def normalize_symbol(symbol: str) -> str:
    """The stored form of a symbol: upper-cased, 1-30 of ``A-Z 0-9 . _ -``."""
    normalized = symbol.strip().upper()
    if not SYMBOL_PATTERN.fullmatch(normalized):
        raise CandleDataError(f"symbol {symbol!r} must be 1 to 30 characters of A-Z, 0-9, '.', '_' or '-'")
    return normalized


def check_timeframe(timeframe: str) -> str:
    if timeframe not in TIMEFRAME_MS:
        raise CandleDataError(f"timeframe {timeframe!r} is not one of {', '.join(TIMEFRAME_MS)}")
    return timeframe


def bucket_span_ms(timeframe: str) -> int:
    """Milliseconds covered by one bucket of ``timeframe``."""
    return TIMEFRAME_MS[check_timeframe(timeframe)] * BUCKET_BARS


def bucket_count(timeframe: str, ts: np.ndarray) -> int:
    """How many buckets sorted timestamps ``ts`` fall into: the length of an import's progress."""
    starts = _bucket_starts(timeframe, ts)
    return int(np.count_nonzero(np.diff(starts))) + 1 if len(starts) else 0


def validate_candles(timeframe: str, candles: Candles) -> None:
    """Raise :class:`CandleDataError` naming the earliest candle that breaks a rule.

    The rules: timestamps strictly increasing and multiples of the timeframe;
    prices finite and positive; volume finite and not negative;
    ``high >= max(open, close)`` and ``low <= min(open, close)`` (so also
    ``high >= low``).
    """
    step = TIMEFRAME_MS[check_timeframe(timeframe)]
    ts, o, h, l, c, v = (getattr(candles, name) for name in COLUMNS)
    checks: list[tuple[np.ndarray, Callable[[int], str]]] = [
        (
            np.concatenate(([False], ts[1:] <= ts[:-1])),
            lambda i: (
                f"is not later than the candle before it ({iso_time(int(ts[i - 1]))}): "
                "candles must be sorted by time, each timestamp once"
            ),
        ),
        (ts % step != 0, lambda i: f"is not aligned to {timeframe} (timestamps must be multiples of {step} ms)"),
    ]
    for name in PRICE_COLUMNS:
        column = getattr(candles, name)
        checks.append((~np.isfinite(column), lambda i, name=name: f"{name} is not a finite number"))
    for name in PRICE_COLUMNS[:4]:
        column = getattr(candles, name)
        checks.append((column <= 0, lambda i, name=name, column=column: f"{name} {_num(column[i])} is not positive"))
    checks += [
        (v < 0, lambda i: f"volume {_num(v[i])} is negative"),
        (h < np.maximum(o, c), lambda i: f"high {_num(h[i])} is below max(open, close) {_num(max(o[i], c[i]))}"),
        (l > np.minimum(o, c), lambda i: f"low {_num(l[i])} is above min(open, close) {_num(min(o[i], c[i]))}"),
    ]
    first_bad = [(int(np.argmax(bad)), order) for order, (bad, _) in enumerate(checks) if bad.any()]
    if first_bad:
        row, order = min(first_bad)
        raise CandleDataError(f"candle {iso_time(int(ts[row]))}: {checks[order][1](row)}")


def _num(value: float) -> str:
    return repr(float(value))  # 99.5, not np.float64(99.5)


class CandleStore:
    """Read and write the ``historical_candles`` buckets of one database."""

    def __init__(self, db: Database):
        # Plain dicts: pymongo's C decoder turns buckets into bytes objects faster than
        # RawBSONDocument's lazy decoding (measured: 0.09 s against 0.15 s per million bars).
        self._buckets = db[HISTORICAL_CANDLES]

    def upsert(
        self,
        symbol: str,
        timeframe: str,
        candles: Candles,
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Merge ``candles`` into the stored series; ``progress(n)`` after every ``n`` buckets settled.

        Raises :class:`CandleDataError` before writing anything if any candle is invalid.
        """
        key = _series_key(symbol, timeframe)
        validate_candles(timeframe, candles)
        tally = _Tally()
        pieces = list(_split_into_buckets(timeframe, candles))
        for batch_start in range(0, len(pieces), _WRITE_BATCH):
            batch = pieces[batch_start : batch_start + _WRITE_BATCH]
            self._settle(key, dict(batch), tally)
            if progress is not None:
                progress(len(batch))
        return ImportSummary(
            received=len(candles),
            inserted=tally.inserted,
            updated=tally.updated,
            unchanged=tally.unchanged,
            buckets_written=tally.buckets_written,
            first_ts=int(candles.ts[0]) if len(candles) else None,
            last_ts=int(candles.ts[-1]) if len(candles) else None,
            conflicts=tally.conflicts,
        )

    def load(self, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None) -> Candles:
        """The stored candles with ``start_ms <= ts < end_ms`` (either bound optional)."""
        key = _series_key(symbol, timeframe)
        return self._load_buckets({**key, **_start_filter(timeframe, start_ms, end_ms)}).between(start_ms, end_ms)

    def page(
        self,
        symbol: str,
        timeframe: str,
        start_ms: int | None,
        end_ms: int | None,
        offset: int,
        limit: int,
    ) -> tuple[Candles, int]:
        """Candles ``offset .. offset+limit-1`` of those in the range, and how many the range holds.

        Counts come from the buckets' ``count`` (read from an index, no arrays
        loaded); only the buckets that hold the page and the at most two that
        straddle a bound have their columns read.
        """
        key = _series_key(symbol, timeframe)
        query = {**key, **_start_filter(timeframe, start_ms, end_ms)}
        extents = list(self._buckets.find(query, _EXTENT_PROJECTION, sort=[("start", 1)], hint=_EXTENT_INDEX))
        starts = [extent["start"] for extent in extents]
        counts = np.array([extent["count"] for extent in extents], dtype=np.int64)
        straddling = [
            index
            for index, extent in enumerate(extents)
            if (start_ms is not None and extent["first_ts"] < start_ms)
            or (end_ms is not None and extent["last_ts"] >= end_ms)
        ]
        if straddling:
            span = bucket_span_ms(timeframe)
            edges = self._load_buckets({**key, "start": {"$in": [starts[i] for i in straddling]}})
            edges = edges.between(start_ms, end_ms)
            for index in straddling:
                counts[index] = len(edges.between(starts[index], starts[index] + span))
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(ends) else 0
        if limit <= 0 or offset >= total:
            return Candles.empty(), total
        first = int(np.searchsorted(ends, offset, "right"))
        last = min(int(np.searchsorted(ends, offset + limit, "left")), len(extents) - 1)
        window = self._load_buckets({**key, "start": {"$gte": starts[first], "$lte": starts[last]}})
        skipped = int(ends[first] - counts[first])
        return window.between(start_ms, end_ms).slice(offset - skipped, offset - skipped + limit), total

    def last(self, symbol: str, timeframe: str, before_ms: int | None, count: int) -> Candles:
        """The last ``count`` stored candles opened before ``before_ms`` (all of the series without it), however
        sparse the history is: counted from the buckets' index, then one page read."""
        _, total = self.page(symbol, timeframe, None, before_ms, 0, 0)
        if not total:
            return Candles.empty()
        return self.page(symbol, timeframe, None, before_ms, max(0, total - count), count)[0]

    def ranges(self) -> list[SymbolRange]:
        """Every stored (symbol, timeframe) with its first and last timestamp and candle count.

        Aggregated from an index holding each bucket's extent, so no bucket is read.
        """
        pipeline = [
            {
                "$group": {
                    "_id": {"symbol": "$symbol", "timeframe": "$timeframe"},
                    "first_ts": {"$min": "$first_ts"},
                    "last_ts": {"$max": "$last_ts"},
                    "count": {"$sum": "$count"},
                }
            },
        ]
        found = [
            SymbolRange(row["_id"]["symbol"], row["_id"]["timeframe"], row["first_ts"], row["last_ts"], row["count"])
            for row in self._buckets.aggregate(pipeline, hint=_EXTENT_INDEX)
        ]
        return sorted(found, key=lambda r: (r.symbol, TIMEFRAME_MS.get(r.timeframe, 0)))

    def delete(self, symbol: str, timeframe: str) -> int:
        """Remove a whole series; returns how many candles it held."""
        key = _series_key(symbol, timeframe)
        held = sum(extent["count"] for extent in self._buckets.find(key, _EXTENT_PROJECTION, hint=_EXTENT_INDEX))
        self._buckets.delete_many(key)
        return held

    def _load_buckets(self, query: Mapping[str, Any]) -> Candles:
        # The server caps a batch at 16 MB (~230 buckets); asking for more skips the
        # default 101-document first batch, so a million bars arrive in 4 round trips.
        cursor = self._buckets.find(query, _COLUMN_PROJECTION, sort=[("start", 1)], batch_size=1000)
        return _join_buckets(cursor)

    def _settle(self, key: dict[str, str], pending: dict[int, Candles], tally: _Tally) -> None:
        """Merge and write the buckets of ``pending`` (bucket start -> new candles) until none is left."""
        for _ in range(_MAX_ATTEMPTS):
            stored = {
                doc["start"]: doc for doc in self._buckets.find({**key, "start": {"$in": list(pending)}}, {"_id": 0})
            }
            merges = {start: _merge(stored.get(start), new) for start, new in pending.items()}
            writes = {start: merge for start, merge in merges.items() if merge.candles is not None}
            lost = self._write(key, writes)
            for start, merge in merges.items():
                if start not in lost:
                    tally.add(merge)
            tally.conflicts += len(lost)
            pending = {start: pending[start] for start in lost}
            if not pending:
                return
        raise RuntimeError(
            f"gave up writing {len(pending)} {key['symbol']} {key['timeframe']} bucket(s): "
            f"other imports kept changing them ({_MAX_ATTEMPTS} attempts)"
        )

    def _write(self, key: dict[str, str], writes: dict[int, _Merge]) -> set[int]:
        """Write each merged bucket if its version is still the one read; return the starts that lost a race.

        The filter names the expected version; if another import got there
        first the filter matches nothing, the upsert tries to insert a second
        bucket with the same (symbol, timeframe, start) and the unique index
        refuses it. So a lost race shows up as a duplicate-key error on exactly
        that operation, while the rest of the batch is written.
        """
        if not writes:
            return set()
        starts = list(writes)
        operations = [
            ReplaceOne(
                {**key, "start": start, "version": writes[start].version},
                _bucket_document(key, start, writes[start]),
                upsert=True,
            )
            for start in starts
        ]
        try:
            self._buckets.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(e["code"] != _DUPLICATE_KEY for e in errors):
                raise
            return {starts[error["index"]] for error in errors}
        return set()


@dataclass
class _Merge:
    """A bucket's stored candles merged with new ones, and what that changed.

    ``candles`` is None when nothing changed; ``version`` is the version read (0: no bucket yet).
    """

    candles: Candles | None
    version: int
    inserted: int
    updated: int
    unchanged: int


@dataclass
class _Tally:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    buckets_written: int = 0
    conflicts: int = 0

    def add(self, merge: _Merge) -> None:
        self.inserted += merge.inserted
        self.updated += merge.updated
        self.unchanged += merge.unchanged
        self.buckets_written += merge.candles is not None


def _merge(stored: Mapping[str, Any] | None, new: Candles) -> _Merge:
    """New values win for timestamps already stored; stored candles at other timestamps stay."""
    if stored is None:
        return _Merge(new, 0, inserted=len(new), updated=0, unchanged=0)
    old = _join_buckets([stored])
    at = np.minimum(np.searchsorted(old.ts, new.ts), len(old) - 1)
    found = old.ts[at] == new.ts
    same = found.copy()
    for name in PRICE_COLUMNS:  # bit for bit, so re-importing never rewrites a bucket
        same &= getattr(old, name)[at].view(np.int64) == getattr(new, name).view(np.int64)
    n_found, n_same = int(found.sum()), int(same.sum())
    version = stored["version"]
    if n_same == len(new):
        return _Merge(None, version, inserted=0, updated=0, unchanged=n_same)
    kept = np.ones(len(old), dtype=bool)
    kept[at[found]] = False
    merged = {name: np.concatenate((getattr(old, name)[kept], getattr(new, name))) for name in COLUMNS}
    order = np.argsort(merged["ts"], kind="stable")
    candles = Candles(*(merged[name][order] for name in COLUMNS))
    return _Merge(candles, version, inserted=len(new) - n_found, updated=n_found - n_same, unchanged=n_same)


def _bucket_document(key: dict[str, str], start: int, merge: _Merge) -> dict[str, Any]:
    candles = merge.candles
    return {
        **key,
        "start": start,
        "count": len(candles),
        "first_ts": int(candles.ts[0]),
        "last_ts": int(candles.ts[-1]),
        "version": merge.version + 1,
        **{name: getattr(candles, name).astype(_DTYPES[name], copy=False).tobytes() for name in COLUMNS},
    }


def _join_buckets(docs: Iterable[Mapping[str, Any]]) -> Candles:
    """Concatenate the packed columns of buckets (in order) into one set of arrays, copying once."""
    parts: dict[str, list[bytes]] = {name: [] for name in COLUMNS}
    for doc in docs:
        for name in COLUMNS:
            parts[name].append(doc[name])
    return Candles(*(np.frombuffer(bytearray().join(parts[name]), dtype=_DTYPES[name]) for name in COLUMNS))


def _series_key(symbol: str, timeframe: str) -> dict[str, str]:
    return {"symbol": normalize_symbol(symbol), "timeframe": check_timeframe(timeframe)}


def _bucket_starts(timeframe: str, ts: np.ndarray) -> np.ndarray:
    span = bucket_span_ms(timeframe)
    return ts // span * span


def _split_into_buckets(timeframe: str, candles: Candles) -> Iterator[tuple[int, Candles]]:
    starts = _bucket_starts(timeframe, candles.ts)
    bounds = [0, *(np.flatnonzero(np.diff(starts)) + 1).tolist(), len(candles)]
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            yield int(starts[lo]), candles.slice(lo, hi)


def _start_filter(timeframe: str, start_ms: int | None, end_ms: int | None) -> dict[str, Any]:
    """The buckets that can hold candles with ``start_ms <= ts < end_ms``."""
    bounds: dict[str, int] = {}
    if start_ms is not None:
        span = bucket_span_ms(timeframe)
        bounds["$gte"] = int(start_ms) // span * span
    if end_ms is not None:
        bounds["$lt"] = int(end_ms)
    return {"start": bounds} if bounds else {}
