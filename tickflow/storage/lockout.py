"""Locking out an address that keeps failing to authenticate, counted in Redis so every API process agrees.

``FAILURES`` failed attempts (no token, a wrong, revoked or expired one) from
one address within ``WINDOW_S`` lock that address out for ``LOCK_S``: a
guesser gets a handful of tries a minute instead of thousands a second. The
count is a fixed window per address (``keys.auth_failures``), the lock a key
that expires by itself (``keys.auth_lockout``). With Redis unreachable nothing
is counted and nobody is locked out: authentication itself does not need Redis.
"""

from __future__ import annotations

import redis

from tickflow.storage import keys

FAILURES = 20
WINDOW_S = 60
LOCK_S = 60


class Lockout:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again; 0 when it is not locked out."""
        try:
            ttl = self._redis.ttl(keys.auth_lockout(address))
        except redis.RedisError:
            return 0
        if ttl == -2:  # no such key
            return 0
        return ttl if ttl > 0 else LOCK_S  # -1: a lock without expiry, which only a person can have set

    def failed(self, address: str) -> None:
        """Count a failed attempt from ``address``, locking it out at the ``FAILURES``-th in a window."""
        counter = keys.auth_failures(address)
        try:
            with self._redis.pipeline() as pipe:
                _, count = pipe.set(counter, 0, ex=WINDOW_S, nx=True).incr(counter).execute()
                if count >= FAILURES:
                    pipe.set(keys.auth_lockout(address), count, ex=LOCK_S).delete(counter).execute()
        except redis.RedisError:
            pass  # see the module docstring: no Redis, no lockout
