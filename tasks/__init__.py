"""Celery tasks. ``celery -A tasks`` finds the application as ``tasks.app``."""

from tasks.celery_app import app

__all__ = ["app"]
