"""TickFlow's shared infrastructure: settings, storage, logs, times, candle files.

Everything that touches MongoDB or Redis goes through ``tickflow.storage``, so the API,
the Celery tasks and both engines share one implementation, including the formats of
the live state the engine writes and the API reads. It imports no project package but
``strategies`` (docs/architecture.md, "Packages").
"""

__version__ = "0.1.0"
