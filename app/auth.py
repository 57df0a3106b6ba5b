"""Bearer-token authentication and scopes for the whole API.

Every endpoint requires ``Authorization: Bearer <token>`` unless its
blueprint is listed in ``PUBLIC_BLUEPRINTS``, and a token holding the scope
that :func:`app.access.required_scope` names for the request: protection is
the default, so a new endpoint cannot be exposed by forgetting a decorator
(a new write needs ``trade`` until someone decides otherwise).

- No token, or an unknown, revoked or expired one: 401, saying which.
- A token without the scope: 403 naming the scope needed and the token's.
- ``lockout.FAILURES`` 401s from one address in a minute: every request from
  it is a 429 with ``Retry-After`` for a minute (``tickflow.storage.lockout``).

Every line logged while serving the request carries ``token=<name>``.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask_smorest import abort

from app.access import required_scope
from app.context import token_repository
from tickflow.logs import log_context
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.lockout import Lockout
from tickflow.storage.tokens import ApiToken, TokenRepository

# Health (for load balancers) and the API's own documentation.
PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "swagger_ui"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tickflow"'}

log = logging.getLogger(__name__)


def bearer_token(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def require_token() -> None:
    """``before_request`` hook: let the request through only with a valid token holding the scope it needs.

    Unrouted requests pass through to become plain 404/405s, and CORS
    preflights (``OPTIONS``, which browsers send without credentials) are
    answered by flask-cors.
    """
    if request.method == "OPTIONS" or request.endpoint is None or request.blueprint in PUBLIC_BLUEPRINTS:
        return
    address = request.remote_addr or "unknown"
    lockout = Lockout(redis_client())
    wait = lockout.retry_after(address)
    if wait:
        abort(
            429,
            message=f"Too many failed authentications from {address}: try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    token = bearer_token(request.headers.get("Authorization"))
    repository = token_repository()
    record = repository.verify(token) if token else None
    if record is None:
        lockout.failed(address)
        abort(401, message=_refusal(repository, token), headers=CHALLENGE)
    g.token = record
    g.token_log_context = log_context(token=record.name)
    g.token_log_context.__enter__()
    needed = required_scope(request.method, request.endpoint, request.blueprint)
    if needed not in record.scopes:
        abort(403, message=f"This needs the '{needed}' scope; the token '{record.name}' has {_held(record)}.")


def _refusal(repository: TokenRepository, token: str | None) -> str:
    """Why a request gets a 401: what the caller can do about it."""
    record = repository.identify(token) if token else None
    if record is not None and record.expired():
        return (
            f"The token '{record.name}' expired at {record.expires_at:%Y-%m-%d %H:%M:%S} UTC: "
            "create a new one (tickflow token create)."
        )
    if token and repository.is_legacy(token):
        return (
            "This token was stored before tokens were keyed by SECRET_KEY: "
            "run 'tickflow token migrate' once on the server (docs/operations.md)."
        )
    return "A valid API token is required: send 'Authorization: Bearer <token>'."


def _held(record: ApiToken) -> str:
    return f"'{record.scope}'" if record.scope else "no scope"


def _unbind_token(_: BaseException | None) -> None:
    context = g.pop("token_log_context", None)
    if context is not None:
        context.__exit__()


def _warn_of_legacy_tokens(secret_key: str) -> None:
    """Tokens from before keyed hashing are refused until migrated: say so where the operator looks."""
    legacy = [token.name for token in TokenRepository(mongo_db(), redis_client(), secret_key).list() if token.legacy]
    if legacy:
        log.warning(
            "%d API token(s) (%s) predate keyed hashing and are refused until 'tickflow token migrate' is run",
            len(legacy), ", ".join(legacy),
        )  # fmt: skip


def init_app(app: Flask) -> None:
    app.before_request(require_token)
    app.teardown_request(_unbind_token)  # registered after the URL ids' hook, so it runs before it
    _warn_of_legacy_tokens(app.config["TICKFLOW_SETTINGS"].secret_key)
