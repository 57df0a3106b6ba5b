"""Every Redis key the platform uses, in one place.

Live state is spread over many processes (API, workers, beat); naming each key
through a function here keeps them from drifting apart and makes the whole
keyspace greppable. Every key starts with ``tf:`` so that TickFlow can share a
Redis with other software and ``SCAN tf:*`` finds all of it.
"""

from __future__ import annotations

PREFIX = "tf:"


def strategy_key(strategy_id: str) -> str:
    """Cached strategy (a hash of ``version`` and ``doc``), written through from MongoDB."""
    return f"{PREFIX}strategy:{strategy_id}"
