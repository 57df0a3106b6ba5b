"""The OpenAPI document and a Swagger UI that works without internet access.

flask-smorest renders the Swagger UI page but loads its JavaScript and CSS
from a CDN by default. A self-hosted platform may run where no CDN is
reachable, so the assets are served from the ``swagger-ui-bundle`` package.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "docs"
ASSETS_PATH = "docs/assets"


def openapi_config(prefix: str) -> dict[str, Any]:
    """flask-smorest settings: spec at ``{prefix}/openapi.json``, UI at ``{prefix}/docs``."""
    return {
        "API_TITLE": "TickFlow API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": prefix,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": DOCS_PATH,
        "OPENAPI_SWAGGER_UI_URL": f"{prefix}/{ASSETS_PATH}/",
        "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True},
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "Manage strategies and market data. See docs/api.md. A token's scope bounds what it "
                "may do: GET (and POST /strategies/validate, /live/stream/ticket) needs 'read'; any other method "
                "'trade'; DELETE, candle writes and /audit 'admin'. A 403 names the scope missing; 20 failed "
                "authentications in a minute from one address get it 429s for a minute."
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    }


def init_app(app: Flask) -> None:
    """Serve the Swagger UI assets where ``OPENAPI_SWAGGER_UI_URL`` points."""
    assets = Blueprint(
        "swagger_ui",
        __name__,
        static_folder=str(swagger_ui_path),
        static_url_path=app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/"),
    )
    app.register_blueprint(assets)
