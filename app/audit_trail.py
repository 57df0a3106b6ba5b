"""Recording every write: one line in the API's log and one document in the ``audit`` collection.

A write is any request that :func:`app.access.is_write` calls one and that
carried a valid token (a request without one is the lockout's business and
in the access log): its token, method, path, status, the id it was about and
the caller's address. Refused writes (403, 409, 422...) are recorded too:
who tried what is worth as much as who did it. If MongoDB cannot take the
entry, the log line still stands and the response is not failed for it.
"""

from __future__ import annotations

import logging

import pymongo.errors
from flask import Flask, Response, g, request

from app.access import is_write
from tickflow.storage.audit import AuditEntry, AuditRepository
from tickflow.storage.connections import mongo_db
from tickflow.storage.schema import mongo_now

log = logging.getLogger(__name__)


def record_write(response: Response) -> Response:
    """``after_request`` hook: log and store the write this response answers, if it is one."""
    token = g.get("token")
    if token is None or not is_write(request.method, request.endpoint or ""):
        return response
    entry = AuditEntry(
        at=mongo_now(), token=token.name, token_id=token.id, method=request.method, path=request.path,
        status=response.status_code, target_id=_target(response), address=request.remote_addr,
    )  # fmt: skip
    log.info("%s %s %d", entry.method, entry.path, entry.status, extra={"target_id": entry.target_id})
    try:
        AuditRepository(mongo_db()).append(entry)
    except pymongo.errors.PyMongoError as error:
        log.warning("audit entry not stored (MongoDB: %s)", error, extra={"target_id": entry.target_id})
    return response


def _target(response: Response) -> str | None:
    """What the write was about: the ids in its URL (``BTCUSDT/1h`` for candles), else the id it created."""
    if request.view_args:
        return "/".join(str(value) for value in request.view_args.values())
    if response.status_code < 300 and response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            return body["id"]
    return None


def init_app(app: Flask) -> None:
    app.after_request(record_write)
