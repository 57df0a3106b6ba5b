"""Exponential backoff with jitter, for everything a feed retries (exchange reconnects, broker publishes).

Jitter keeps several feeds that lost the same server at the same moment from
hammering it in lockstep when it comes back.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays ``initial, initial*factor, ...`` capped at ``maximum``, each shortened by up to ``jitter`` of itself.

    ``reset()`` after a success so that the next failure starts short again.
    """

    def __init__(self, initial: float = 0.05, maximum: float = 5.0, factor: float = 2.0, jitter: float = 0.5) -> None:
        if not (0 < initial <= maximum and factor >= 1 and 0 <= jitter < 1):
            raise ValueError("need 0 < initial <= maximum, factor >= 1 and 0 <= jitter < 1")
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self.attempts = 0

    def next(self) -> float:
        """The delay in seconds before the next attempt."""
        base = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))  # no float overflow
        self.attempts += 1
        return base * (1 - self.jitter * random.random())

    def reset(self) -> None:
        self.attempts = 0
