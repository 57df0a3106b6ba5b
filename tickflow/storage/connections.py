"""Process-wide MongoDB and Redis clients, created lazily.

Celery's prefork pool forks after import; pymongo clients must not cross a
fork, so the cached clients are dropped in every child and re-created there
on first use.
"""

from __future__ import annotations

import os
from functools import cache

import redis
from pymongo import MongoClient
from pymongo.database import Database

from tickflow.settings import get_settings


@cache
def _mongo_client(uri: str) -> MongoClient:
    return MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000, connect=False)


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def mongo_db() -> Database:
    """The platform's database (named in ``MONGO_URI``)."""
    settings = get_settings()
    return _mongo_client(settings.mongo_uri)[settings.mongo_db_name]


def redis_client() -> redis.Redis:
    """Redis for live state (``REDIS_URL``), returning ``str`` values."""
    return _redis_client(get_settings().redis_url)


def reset_clients() -> None:
    """Forget cached clients (after a fork, or when a test changes the settings)."""
    _mongo_client.cache_clear()
    _redis_client.cache_clear()


os.register_at_fork(after_in_child=reset_clients)
