"""TickFlow: shared infrastructure (settings, storage, local services, CLI).

Domain logic lives in the top-level packages: ``strategies`` (pure rules and
indicators), ``backtests``, ``tasks``/``workers`` (live engine) and ``app``
(management API). Everything that touches MongoDB or Redis goes through
``tickflow.storage`` so that the API, tasks and backtests share one
implementation.
"""

__version__ = "0.1.0"
