"""Celery tasks. ``celery -A tasks`` finds the application as ``tasks.app``."""

from tasks.celery_app import app
from tasks import backtests, live  # noqa: E402,F401  registers tickflow.backtests.* and tickflow.live.*
from tasks import maintenance  # noqa: E402,F401  registers tickflow.maintenance.*

__all__ = ["app"]
