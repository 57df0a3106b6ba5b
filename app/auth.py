"""Bearer-token authentication for the whole API.

Every endpoint requires ``Authorization: Bearer <token>`` unless its
blueprint is listed in ``PUBLIC_BLUEPRINTS``: protection is the default, so
a new blueprint cannot be exposed by forgetting a decorator.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import abort

from app.context import token_repository

# Health (for load balancers) and the API's own documentation.
PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "swagger_ui"})


def bearer_token(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def require_token() -> None:
    """``before_request`` hook: 401 unless the request carries a valid token.

    Unrouted requests pass through to become plain 404/405s, and CORS
    preflights (``OPTIONS``, which browsers send without credentials) are
    answered by flask-cors.
    """
    if request.method == "OPTIONS" or request.endpoint is None or request.blueprint in PUBLIC_BLUEPRINTS:
        return
    token = bearer_token(request.headers.get("Authorization"))
    record = token_repository().verify(token) if token else None
    if record is None:
        abort(
            401,
            message="A valid API token is required: send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="tickflow"'},
        )
    g.token = record


def init_app(app: Flask) -> None:
    app.before_request(require_token)
