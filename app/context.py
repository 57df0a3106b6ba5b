"""What a request needs from the process: its settings and the repositories.

Repositories are cheap views over the shared, fork-safe clients of
:mod:`tickflow.storage.connections`, so each request simply makes its own.
"""

from __future__ import annotations

from flask import current_app

from tickflow.settings import Settings
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.strategies import StrategyRepository
from tickflow.storage.tokens import TokenRepository


def settings() -> Settings:
    """The settings the current app was created with."""
    return current_app.config["TICKFLOW_SETTINGS"]


def strategy_repository() -> StrategyRepository:
    return StrategyRepository(mongo_db(), redis_client())


def token_repository() -> TokenRepository:
    """Tokens keyed by the app's ``SECRET_KEY``."""
    return TokenRepository(mongo_db(), redis_client(), settings().secret_key)
