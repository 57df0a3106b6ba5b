"""Celery tasks. ``celery -A tasks`` finds the application as ``tasks.app``.

Importing this package loads only the application: a worker imports the task modules
(``TASK_MODULES``) when it starts, and a process that only sends tasks by name, like the
feed, never loads the engines.
"""

from tasks.celery_app import app

__all__ = ["app"]
