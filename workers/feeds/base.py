"""What every market-data source offers the feed process: ticks, in order, a group at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from strategies.domain import Tick

MAX_GROUP = 2_000
"""Most ticks a paced source hands over at once when many are due: bounds the latency a burst adds."""


class Feed(Protocol):
    """A source of ticks: simulated, replayed from stored candles, or live from an exchange.

    ``ticks()`` yields ticks in the order the live pipeline must see them,
    grouped as they become available (one exchange message, the ticks due in
    one pacing step, ...). Groups rather than single ticks because a feed may
    emit 100,000 ticks a second and a Python iteration per tick is a real
    share of that. A replay ends when its candles do; a live source never ends
    by itself and is stopped by cancelling its iteration.
    """

    name: str

    def ticks(self) -> AsyncIterator[Sequence[Tick]]: ...
