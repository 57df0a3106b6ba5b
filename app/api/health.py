"""``GET /api/v1/health``: is the API able to serve, and are workers listening? ``GET /api/v1/health/live``: is
this process up?

Redis and MongoDB are required (503 when either is down); Celery workers are
not, since the API manages strategies without them, so their absence only
makes the status ``degraded``, as does a stale live symbol (``feed``). Answers come from the process's ``HealthMonitor``
(``app.probes``), which probes in the background: a request never waits for a
probe, and each part says how old its probe is.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from app import context
from app.probes import HealthMonitor
from app.schemas import HealthSchema, LivenessSchema
from tasks.celery_app import app as celery_app

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Service health (no auth)")


def _monitor() -> HealthMonitor:
    """This app's monitor, made on the first health request (so an app that is never asked never probes)."""
    monitor = current_app.extensions.get("tickflow_health")
    if monitor is None:
        settings = context.settings()
        made = HealthMonitor(settings.redis_url, settings.mongo_uri, celery_app, settings.celery_broker_url)
        monitor = current_app.extensions.setdefault("tickflow_health", made)
    return monitor


@blp.route("")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Redis or MongoDB is down")
def health():
    """The state of Redis, MongoDB and the Celery workers, from probes at most a few seconds old."""
    report = _monitor().report()
    all_up = all(part["state"] == "up" for part in report.values())
    required_up = report["redis"]["state"] == "up" and report["mongodb"]["state"] == "up"
    return {"status": "ok" if all_up else "degraded", **report}, 200 if required_up else 503


@blp.route("/live")
@blp.doc(security=[])
@blp.response(200, LivenessSchema)
def liveness():
    """This API process answers: for a process supervisor's liveness check. Probes nothing."""
    return {"status": "alive"}
