"""Celery tasks of periodic upkeep: ``tasks.maintenance.*``, scheduled by beat (``tasks.beat``).

The logic is ``workers.maintenance``; these tasks only call it with this process's
engine and clients. Each is cheap, safe to run twice or alongside the live pipeline, and
stores no result: what it found goes to the log (and, for reconciliation, to Redis and the
live event stream). A run that fails is simply the next run's work.
"""

from __future__ import annotations

from dataclasses import asdict

from tasks.celery_app import app
from tasks.live import engine
from tickflow.storage.connections import mongo_db, redis_client
from workers import maintenance


@app.task(ignore_result=True)
def reconcile_positions() -> dict[str, int]:
    """Compare live positions with the broker's; report (never fix) lasting differences."""
    return maintenance.reconcile_positions(engine()).summary()


@app.task(ignore_result=True)
def refresh_strategy_cache() -> dict[str, int]:
    """Rewrite the strategy cache from MongoDB; tombstone entries of strategies gone from it."""
    return asdict(maintenance.refresh_strategy_cache(mongo_db(), redis_client()))


@app.task(ignore_result=True)
def check_liveness() -> list[str]:
    """Report live symbols that stopped ticking (or tick again) on the event stream; the stale ones."""
    return maintenance.check_liveness(redis_client())


@app.task(ignore_result=True)
def prune_live_keys() -> dict[str, int]:
    """Delete live keys past their use (docs/redis-keys.md, "Pruning")."""
    return maintenance.prune_live_keys(engine(), mongo_db(), maintenance.prune_idle_s()).summary()
