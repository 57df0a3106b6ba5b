"""Which scope a request needs: decided by rule, so an endpoint nobody thought about is still protected.

- Reads (``GET``, ``HEAD``) need ``read``; so do the few ``POST`` endpoints
  that only compute an answer (``READS``).
- Every other method needs ``trade``: starting and stopping strategies,
  halting and resuming trading, launching backtests and sweeps, writing
  strategies, and any endpoint added later that nobody listed here.
- ``DELETE`` needs ``admin`` (strategies, backtests, sweeps: a delete of a
  queued or running backtest or sweep cancels it), and so does every write to
  a blueprint in ``ADMIN_WRITES`` (candles) and every request to one in
  ``ADMIN_ONLY`` (the audit trail, and token management should it ever get
  endpoints).

Endpoints are named as Flask names them, ``<blueprint>.<view>``.
"""

from __future__ import annotations

READ, TRADE, ADMIN = "read", "trade", "admin"

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READS = frozenset(
    {
        "strategies.StrategyValidation",  # checks a spec and stores nothing
        "stream.Ticket",  # a ticket to open the live stream, which is a read
    }
)
ADMIN_WRITES = frozenset({"candles"})
ADMIN_ONLY = frozenset({"audit", "tokens"})


def is_write(method: str, endpoint: str) -> bool:
    """Whether the request may change something: what the audit trail records."""
    return method not in READ_METHODS and endpoint not in READS


def required_scope(method: str, endpoint: str, blueprint: str | None) -> str:
    """The scope a ``method`` request to ``endpoint`` of ``blueprint`` needs."""
    if blueprint in ADMIN_ONLY:
        return ADMIN
    if not is_write(method, endpoint):
        return READ
    if method == "DELETE" or blueprint in ADMIN_WRITES:
        return ADMIN
    return TRADE
