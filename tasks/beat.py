"""The beat schedule: periodic live-engine work (``celery -A tasks beat``).

Only the outbox drain is periodic; everything else is driven by ticks. A drain that
finds MongoDB down leaves the records for the next one; ``expires`` keeps a backlog of
drains from piling up while no worker consumes ``orders``.
"""

from __future__ import annotations

DRAIN_EVERY_S = 5.0

BEAT_SCHEDULE = {
    "tickflow-live-drain-outbox": {
        "task": "tickflow.live.drain_outbox",
        "schedule": DRAIN_EVERY_S,
        "options": {"queue": "orders", "expires": DRAIN_EVERY_S},
    },
}
