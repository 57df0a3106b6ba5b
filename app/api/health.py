"""``GET /api/v1/health``: is the API able to serve, and are workers listening?

Redis and MongoDB are required (503 when either is down); Celery workers are
not, since the API manages strategies without them, so their absence only
makes the status ``degraded``.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from app import context
from app.probes import probe_celery, probe_mongodb, probe_redis
from app.schemas import HealthSchema
from tasks.celery_app import app as celery_app

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Service health (no auth)")


@blp.route("")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Redis or MongoDB is down")
def health():
    """Report the state of Redis, MongoDB and the Celery workers."""
    settings = context.settings()
    report = {
        "redis": probe_redis(settings.redis_url),
        "mongodb": probe_mongodb(settings.mongo_uri),
        "celery": probe_celery(celery_app, settings.celery_broker_url),
    }
    all_up = all(part["state"] == "up" for part in report.values())
    required_up = report["redis"]["state"] == "up" and report["mongodb"]["state"] == "up"
    return {"status": "ok" if all_up else "degraded", **report}, 200 if required_up else 503
