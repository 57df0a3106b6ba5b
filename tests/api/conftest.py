"""An API app on the test Redis and MongoDB, a client, and a valid bearer token.

Fixture names are shared with every API test module: ``app``, ``client``,
``auth_headers``.
"""

from __future__ import annotations

import pytest

from app import create_app
from tickflow.storage.tokens import TokenRepository


@pytest.fixture
def app(db, redis):
    """A fresh app over emptied databases."""
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers(db):
    """``Authorization`` header with a newly issued token."""
    token, _ = TokenRepository(db).create("tests")
    return {"Authorization": f"Bearer {token}"}
