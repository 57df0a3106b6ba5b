"""Body size caps per endpoint, applied before a view reads its body.

``MAX_CONTENT_LENGTH`` (``MAX_UPLOAD_MB``) stays the cap of candle uploads and of any endpoint
not listed; JSON requests that are a few kilobytes in real use get a tighter one, so a client
cannot make the API parse megabytes of them. Beyond its cap a body is a 413 naming the cap.
"""

from __future__ import annotations

from flask import Flask, request

REQUEST_BYTES = 64 * 1024
BODY_LIMITS: dict[str, int] = {
    "strategies.StrategyCollection": REQUEST_BYTES,
    "strategies.StrategyValidation": REQUEST_BYTES,
    "strategies.StrategyItem": REQUEST_BYTES,
    "backtests.BacktestCollection": REQUEST_BYTES,
    "sweeps.SweepCollection": REQUEST_BYTES,
}
"""Endpoint -> its cap in bytes; those absent take ``MAX_CONTENT_LENGTH``."""


def body_limit(endpoint: str | None, default: int | None) -> int | None:
    """The cap of ``endpoint``'s bodies: its own, never more than the app-wide ``default``."""
    own = BODY_LIMITS.get(endpoint or "")
    if own is None:
        return default
    return own if default is None else min(own, default)


def _apply_limit() -> None:
    request.max_content_length = body_limit(request.endpoint, request.max_content_length)


def init_app(app: Flask) -> None:
    app.before_request(_apply_limit)
