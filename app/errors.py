"""Every error is JSON, in flask-smorest's shape.

``{"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}``
where ``errors`` (present for validation failures) maps a location
(``json``, ``query``) to ``{field path: [messages]}``. Werkzeug's own errors
(404, 405, 413, malformed JSON), the storage layer's exceptions and crashes
all come out in this shape, so a client needs one error parser.
"""

from __future__ import annotations

from typing import Any

import pymongo.errors
import redis
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from strategies.spec import SpecError
from tickflow.storage.strategies import Conflict, StrategyNotFound, VersionMismatch


def error_response(
    code: int, message: str, errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[Response, int, dict[str, str]]:
    """A JSON error response; the status name follows from ``code``."""
    payload: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Unknown Error"), "message": message}
    if errors:
        payload["errors"] = errors
    return jsonify(payload), code, headers or {}


def handle_http_exception(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
    """Werkzeug errors and ``flask_smorest.abort``; a crash arrives here as a bare 500.

    Flask has already logged a crash's traceback; only the generic 500
    description goes to the client.
    """
    data = getattr(error, "data", None) or {}  # what flask_smorest.abort / webargs attach
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    code = error.code or 500
    if code == 413 and request.max_content_length:
        limit = request.max_content_length
        return error_response(
            413, f"The body is over this endpoint's limit of {limit:,} bytes ({limit // 1024:,} KiB)."
        )
    return error_response(
        code, data.get("message") or error.description or "", data.get("errors") or data.get("messages"), headers
    )


def handle_spec_error(error: SpecError) -> tuple[Response, int, dict[str, str]]:
    """422 listing every problem in the submitted spec under its path."""
    by_path: dict[str, list[str]] = {}
    for issue in error.errors:
        by_path.setdefault(issue.path, []).append(issue.message)
    return error_response(422, "The strategy spec is invalid.", {"json": by_path})


def handle_not_found(error: StrategyNotFound) -> tuple[Response, int, dict[str, str]]:
    return error_response(404, "No strategy has this id.")


def handle_conflict(error: Conflict) -> tuple[Response, int, dict[str, str]]:
    return error_response(409, str(error))


def handle_version_mismatch(error: VersionMismatch) -> tuple[Response, int, dict[str, str]]:
    return error_response(
        412, f"{error}; fetch it again and retry with its ETag.", headers={"ETag": f'"{error.actual}"'}
    )


def handle_storage_down(error: Exception) -> tuple[Response, int, dict[str, str]]:
    """Redis or MongoDB unreachable: the request may be retried, so 503 rather than 500."""
    current_app.logger.warning("storage unavailable: %s", error)
    return error_response(503, "A storage service is unavailable; see /api/v1/health.")


def init_app(app: Flask) -> None:
    """Register the handlers; call after ``Api(app)`` so that ours replaces flask-smorest's."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(SpecError, handle_spec_error)
    app.register_error_handler(StrategyNotFound, handle_not_found)
    app.register_error_handler(Conflict, handle_conflict)
    app.register_error_handler(VersionMismatch, handle_version_mismatch)
    for exc in (redis.ConnectionError, redis.TimeoutError, pymongo.errors.ConnectionFailure):
        app.register_error_handler(exc, handle_storage_down)
