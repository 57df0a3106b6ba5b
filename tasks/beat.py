"""The beat schedule: periodic live-engine work (``celery -A tasks beat``; exactly one per deployment).

Everything else is driven by ticks. Each entry runs on ``orders``, the live queue with the
lightest per-message work (``execute``), consumed only by live workers, which hold the
engine and the broker these tasks read; ``backtests`` would leave them waiting behind hour-long
runs, ``ingest`` would delay ticks and stop checks. Each expires after its own period, so
while no worker consumes ``orders`` (paused, or down) a backlog of them never piles up: the
next run does the work. docs/operations.md, "Periodic work (beat)", has the table.

* ``DRAIN_EVERY_S``: copy trade records MongoDB could not take from the Redis outbox to ``trade_logs``.
* ``RECONCILE_EVERY_S``: compare live positions with the broker's; report lasting differences.
* ``VENUE_RECONCILE_EVERY_S``: reconcile live strategies with the venue (``workers.reconcile``).
* ``REFRESH_CACHE_EVERY_S``: rewrite the strategy cache from MongoDB (its entries live 10 minutes).
* ``LIVENESS_EVERY_S``: report live symbols whose feed went silent (``stale`` events).
* ``PRUNE_EVERY_S``: delete live keys past their use.
"""

from __future__ import annotations

from tasks.routing import ORDERS_QUEUE, live_shards, shard_queue

QUEUE = shard_queue(ORDERS_QUEUE, 0, live_shards())
"""``orders``, or shard 0's ``orders.0`` when live work is sharded (``tasks.routing``)."""
DRAIN_EVERY_S = 5.0
RECONCILE_EVERY_S = 60.0
VENUE_RECONCILE_EVERY_S = 300.0
REFRESH_CACHE_EVERY_S = 300.0
LIVENESS_EVERY_S = 10.0
PRUNE_EVERY_S = 3600.0


def _every(task: str, seconds: float) -> dict:
    return {"task": task, "schedule": seconds, "options": {"queue": QUEUE, "expires": seconds}}


BEAT_SCHEDULE = {
    "tickflow-live-drain-outbox": _every("tasks.live.drain_outbox", DRAIN_EVERY_S),
    "tickflow-maintenance-reconcile-positions": _every("tasks.maintenance.reconcile_positions", RECONCILE_EVERY_S),
    "tickflow-live-reconcile-venue": _every("tasks.live.reconcile_venue", VENUE_RECONCILE_EVERY_S),
    "tickflow-maintenance-refresh-strategy-cache": _every(
        "tasks.maintenance.refresh_strategy_cache", REFRESH_CACHE_EVERY_S
    ),
    "tickflow-maintenance-check-liveness": _every("tasks.maintenance.check_liveness", LIVENESS_EVERY_S),
    "tickflow-maintenance-prune-live-keys": _every("tasks.maintenance.prune_live_keys", PRUNE_EVERY_S),
}
