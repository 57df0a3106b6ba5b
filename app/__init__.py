"""The management API: a Flask application built by :func:`create_app`.

gunicorn runs ``app:create_app()``; each worker builds its own app after the
fork, so no database client crosses a fork.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_cors import CORS
from flask_smorest import Api

from app import audit_trail, auth, body_limits, docs, errors, request_log, security_headers
from app.api import audit, backtests, candles, halt, health, indicators, live, me, status, strategies, sweeps
from app.api import stream as stream_docs  # not `stream`: that name is the stream process's module, app.stream
from app.jsonbody import OrjsonProvider
from tickflow.logs import configure, log_context
from tickflow.settings import Settings, get_settings
from tickflow.storage.schema import ready_db

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API for ``settings`` (the process settings by default).

    ``settings`` governs what the app itself decides (CORS, upload limit,
    health probes); the storage clients come from
    :mod:`tickflow.storage.connections`, which follows the process settings.
    """
    settings = settings or get_settings()
    configure("api", settings=settings)  # before Flask's logger exists: it then adds no handler of its own
    app = Flask(__name__, static_folder=None)  # the API serves no files of its own
    app.json = OrjsonProvider(app)
    app.config.update(  # no SECRET_KEY: the API keeps no sessions, and tokens take it from the settings
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        TICKFLOW_SETTINGS=settings,
        **docs.openapi_config(API_PREFIX),
    )
    request_log.init_app(app)  # first: its clock counts every other hook
    app.before_request(_bind_url_ids)  # then: the other hooks' lines carry the ids too
    app.teardown_request(_unbind_url_ids)
    body_limits.init_app(app)
    security_headers.init_app(app)

    api = Api(app)
    for blueprint in (
        health.blp,
        me.blp,
        status.blp,
        indicators.blp,
        strategies.blp,
        candles.blp,
        backtests.blp,
        sweeps.blp,
        live.blp,
        halt.blp,
        stream_docs.blp,
        audit.blp,
    ):
        api.register_blueprint(blueprint)
    stream_docs.document(api)  # served by the stream process, documented with the rest
    docs.init_app(app)
    errors.init_app(app)  # after Api: replaces flask-smorest's HTTP error handler
    auth.init_app(app)
    audit_trail.init_app(app)
    CORS(
        app,
        resources={f"{API_PREFIX}/*": {"origins": list(settings.cors_origins)}},
        allow_headers=["Authorization", "Content-Type", "If-Match", "Last-Event-ID"],
        expose_headers=["ETag", "Location"],
        max_age=600,  # the browser asks once per URL in ten minutes, not before every authorised request
    )

    ready_db()
    return app


def _bind_url_ids() -> None:
    """Every line logged for this request carries the ids in its URL (``strategy_id``, ``symbol``, ``run_id``...)."""
    g.log_context = log_context(**(request.view_args or {}))
    g.log_context.__enter__()


def _unbind_url_ids(_: BaseException | None) -> None:
    """After the error handlers and Flask's crash log, which still carry the ids."""
    context = g.pop("log_context", None)
    if context is not None:
        context.__exit__()
