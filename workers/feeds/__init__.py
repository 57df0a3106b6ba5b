"""Market-data feeds: where ticks come from, and how they reach the live pipeline in batches.

A feed process (``tickflow feed``) runs one source (``Feed``) and one
``BatchPublisher`` under ``run_feed``. Sources: ``SimulatedFeed`` (seeded
random walk), ``ReplayFeed`` (stored candles as ticks, optionally in
``Lockstep`` with the pipeline) and ``BinanceFeed`` (live trades). See
docs/feeds.md.
"""

from workers.feeds.backoff import Backoff
from workers.feeds.base import Feed
from workers.feeds.binance import BinanceFeed
from workers.feeds.lockstep import Lockstep, LockstepTimeout
from workers.feeds.publisher import BatchPublisher, PublisherStats, Sink
from workers.feeds.replay import ReplayFeed, candle_path
from workers.feeds.runner import run_feed
from workers.feeds.simulated import SimulatedFeed

__all__ = [
    "Backoff",
    "BatchPublisher",
    "BinanceFeed",
    "Feed",
    "Lockstep",
    "LockstepTimeout",
    "PublisherStats",
    "ReplayFeed",
    "SimulatedFeed",
    "Sink",
    "candle_path",
    "run_feed",
]
