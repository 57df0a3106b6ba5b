"""The live event stream: candle closes, signals, orders, fills and skipped entries, for dashboards.

A capped Redis stream rather than pub/sub: a client that reconnects (an SSE stream
ends after a bounded time under gunicorn's sync workers) resumes from the last id it
saw and misses nothing still in the stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from tickflow.storage import keys

TYPES = ("candle", "signal", "order", "fill", "skipped", "mismatch")
"""``skipped``: an entry signal that placed no order, its size being one the market does not take (and why);
``mismatch``: a position that differs from the broker's (``maintenance.reconcile_positions``)."""


def event(kind: str, data: dict) -> tuple[str, str]:
    """An event as COMMIT and XADD take it: (type, JSON data)."""
    return kind, json.dumps(data)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: str


def read_events(client: redis.Redis, after: str, block_ms: int, count: int = 100) -> list[Event]:
    """Events after the stream id ``after`` (``$`` for only new ones), waiting up to ``block_ms``."""
    reply = client.xread({keys.live_events(): after}, count=count, block=block_ms)
    return [Event(id_, fields["type"], fields["data"]) for _, entries in reply for id_, fields in entries]


def latest_id(client: redis.Redis) -> str:
    """Id of the newest event, ``0-0`` when there is none (so a reader starts after it)."""
    newest = client.xrevrange(keys.live_events(), count=1)
    return newest[0][0] if newest else "0-0"
