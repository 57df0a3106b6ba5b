"""The live event stream: candle closes, signals, orders, fills, skipped entries, mismatches and job progress,
for dashboards.

A capped Redis stream rather than pub/sub: a client that reconnects resumes from the
last id it saw and misses nothing still in the stream (the ``EVENTS_LENGTH`` newest
entries). The stream process (``app.stream``) serves it as Server-Sent Events.

Every event's data is one JSON object whose numbers are JSON numbers (times as
integers, prices and sizes as floats) and whose NaN or infinite values are ``null``,
so a browser can ``JSON.parse`` it as it is. The ingest script writes candle events
itself (``workers/lua/ingest.lua``); every other writer goes through :func:`event`.
"""

from __future__ import annotations

import json
import math
from typing import Any

import redis

from tickflow.storage import keys

TYPES = (
    "candle",
    "signal",
    "order",
    "fill",
    "rejected",
    "skipped",
    "mismatch",
    "foreign",
    "broker",
    "job",
    "halt",
    "limit",
    "stale",
    "quarantine",
)
"""``skipped``: an entry signal that placed no order, its size being one the market does not take (and why);
``mismatch``: a position that differs from the broker's (``maintenance.reconcile_positions``, ``workers.reconcile``);
``foreign``: an order on the venue account that TickFlow did not place, found by the venue reconciliation
(``workers.reconcile``) and left alone;
``broker``: a live strategy's entries paused after repeated balance rejections on the venue (until it starts again);
``job``: a backtest run, a sweep or a candle download moved on (``tasks.backtests``);
``halt``: trading halted or resumed (``tickflow.storage.halt``);
``limit``: an order a limit or the halt blocked (``limit``: which one), or a loss limit tripped and stops the
strategy (``action``: ``stop``);
``stale``: a live symbol stopped ticking, or ticks again (``tickflow.storage.liveness``);
``quarantine``: ticks kept out of a batch as impossible (``workers.quarantine``)."""
EVENTS_LENGTH = 10_000
"""Entries the stream keeps (``XADD MAXLEN ~``): how far back a reconnecting client can resume."""


def event(kind: str, data: dict[str, Any]) -> tuple[str, str]:
    """An event as COMMIT and XADD take it: (type, JSON data), NaN and infinities as ``null``."""
    return kind, json.dumps(_finite(data), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {name: _finite(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def publish(
    client: redis.Redis | redis.client.Pipeline, kind: str, data: dict[str, Any], maxlen: int = EVENTS_LENGTH
) -> None:
    """XADD one event to the capped stream (queued only, when ``client`` is a pipeline)."""
    type_, payload = event(kind, data)
    client.xadd(keys.live_events(), {"type": type_, "data": payload}, maxlen=maxlen, approximate=True)
