"""Celery tasks. ``celery -A tasks`` finds the application as ``tasks.app``."""

from tasks.celery_app import app
from tasks import backtests, live  # noqa: E402,F401  registers tasks.backtests.* and tasks.live.*
from tasks import maintenance  # noqa: E402,F401  registers tasks.maintenance.*

__all__ = ["app"]
