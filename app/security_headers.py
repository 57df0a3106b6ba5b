"""Headers that tell browsers to treat every API response as data, never as a page to embed or sniff.

The API answers JSON (and its own docs page); a browser must not guess another content type
from a body (``nosniff``), must not send the API's URLs on as a referrer (they carry ids, and
the stream's carry a ticket), and must not show a response inside another site's frame
(``X-Frame-Options`` for old browsers, CSP ``frame-ancestors`` for the rest). The stream
process (``app.stream``) sends the same.
"""

from __future__ import annotations

from flask import Flask, Response

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def init_app(app: Flask) -> None:
    """Add the headers to every response, errors included, unless a view set its own."""
    app.after_request(_add_headers)


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
