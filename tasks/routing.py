"""Live work routed by symbol: which node's queues carry a symbol's ticks, closes and orders.

With ``LIVE_SHARDS`` = N > 1 every symbol belongs to one shard, ``crc32(symbol) % N``, and
every message about it goes to that shard's queues ``ingest.<k>``, ``strategy.<k>`` and
``orders.<k>``, which one node consumes (``celery -A tasks worker -Q
ingest.0,strategy.0,orders.0``). Different symbols spread over the nodes while one symbol's
work stays on one node. ``crc32``, not ``hash()``: Python salts string hashes per process,
and the feed and every worker must agree. With N = 1 (the default) the queues keep their
plain names (``ingest``, ``strategy``, ``orders``) and nothing changes.

N must be the same wherever live messages are sent: the feed and the live workers
(docs/deployment.md, "Adding machines").
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import TypeVar

from tickflow.settings import SettingsError

SHARDS_ENV = "LIVE_SHARDS"
INGEST_QUEUE, STRATEGY_QUEUE, ORDERS_QUEUE = "ingest", "strategy", "orders"
T = TypeVar("T")


def parse_shards(raw: str) -> int:
    """``LIVE_SHARDS``'s value as a number of shards; unset or empty is 1."""
    if not raw.strip():
        return 1
    try:
        shards = int(raw)
    except ValueError:
        shards = 0
    if shards < 1:
        raise SettingsError(f"{SHARDS_ENV}: {raw!r} is not a whole number of at least 1")
    return shards


@lru_cache(maxsize=1)
def live_shards() -> int:
    """This process's number of shards, read from the environment once (it is read on every close)."""
    return parse_shards(os.environ.get(SHARDS_ENV, ""))


def shard_of(symbol: str, shards: int) -> int:
    """The shard of ``symbol``: the same in every process, on every machine, in every Python version."""
    return zlib.crc32(symbol.encode()) % shards if shards > 1 else 0


def shard_queue(base: str, shard: int, shards: int) -> str:
    """The queue ``base`` of ``shard``: ``base`` itself with one shard, else ``base.<shard>``."""
    return f"{base}.{shard}" if shards > 1 else base


def node_queues(shard: int, shards: int) -> str:
    """The ``-Q`` of the live node consuming ``shard``: ``ingest.0,strategy.0,orders.0``."""
    return ",".join(shard_queue(base, shard, shards) for base in (INGEST_QUEUE, STRATEGY_QUEUE, ORDERS_QUEUE))


def group_by_shard(items: Iterable[T], symbol: Callable[[T], str], shards: int) -> dict[int, list[T]]:
    """``items`` grouped by the shard of their symbol, each group in the order given."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(shard_of(symbol(item), shards), []).append(item)
    return groups


def split_batch(payload: Mapping[str, list], shards: int) -> dict[int, dict[str, list]]:
    """A tick batch (``workers.ticks``) as one batch per shard that has ticks in it.

    Ticks keep the batch's order within each part, so one symbol's ticks stay in feed
    order as the format requires; a batch's id becomes ``id.shard`` in each part. A batch of a
    single shard (always, with one shard) comes back with its columns uncopied: splitting
    costs nothing then.
    """
    names = payload["s"]
    shard_by_symbol = {symbol: shard_of(symbol, shards) for symbol in set(names)}
    if len(set(shard_by_symbol.values())) <= 1:
        return {next(iter(shard_by_symbol.values()), 0): dict(payload)}
    rows: dict[int, list[int]] = {}
    for i, symbol in enumerate(names):
        rows.setdefault(shard_by_symbol[symbol], []).append(i)
    parts = {}
    for shard, picked in rows.items():
        parts[shard] = {field: [column[i] for i in picked] for field, column in payload.items() if field != "id"}
        if "id" in payload:  # each part is applied once on its own
            parts[shard]["id"] = f"{payload['id']}.{shard}"
    return parts
