"""Celery tasks. ``celery -A tasks`` finds the application as ``tasks.app``."""

from tasks import (  # noqa: F401  registers tasks.backtests.* and tasks.live.*
    backtests,
    live,
    maintenance,
)
from tasks.celery_app import app

__all__ = ["app"]
