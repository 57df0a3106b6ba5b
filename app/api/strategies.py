"""``/api/v1/strategies``: create, list, read, replace, merge-patch and delete strategies.

Bodies are strategy specs, checked by :func:`strategies.spec.validate_spec`
inside the repository; only JSON objects get that far. Every response that
carries a strategy has an ``ETag`` of its version, which ``PUT`` and
``PATCH`` accept as ``If-Match`` to refuse (412) overwriting a newer version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from typing import Any, TypeVar

import redis
from bson import ObjectId
from flask import Response, jsonify, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, fields, validate

from app.charts import strategy_chart_body
from app.context import strategy_repository
from app.schemas import (
    ChartArgsSchema,
    ChartSchema,
    StrategyListArgsSchema,
    StrategySchema,
    ValidationSchema,
    page_of,
    page_schema,
)
from strategies.examples import load_example
from strategies.spec import validate_spec
from strategies.spec_parts import resolve_value
from strategies.talib_catalog import TALIB_FUNCTIONS
from tickflow.storage.active import active_entries, active_entry
from tickflow.storage.candles import CandleDataError, normalize_symbol
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.schema import STRATEGIES
from tickflow.storage.strategies import Strategy

blp = Blueprint("strategies", __name__, url_prefix="/api/v1/strategies", description="Strategy specs")

F = TypeVar("F", bound=Callable[..., Any])

# Real specs are a few kilobytes and a handful of levels deep. The caps keep
# validation cheap and recursion shallow whatever a client sends.
MAX_SPEC_BYTES = 64 * 1024
MAX_SPEC_DEPTH = 32
_VERSION_TAG = re.compile(r"[0-9]{1,18}")

_SPEC_BODY = {
    "required": True,
    "description": "A strategy spec (docs/strategy-spec.md)",
    "content": {"application/json": {"schema": {"type": "object"}, "example": load_example("sma_cross")}},
}
_PATCH_BODY = {
    "required": True,
    "description": "A JSON merge patch of the spec; null removes a field",
    "content": {"application/merge-patch+json": {"schema": {"type": "object"}, "example": {"params": {"fast": 5}}}},
}
_IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the version this write is based on; 412 if the strategy has moved on",
}
_ERRORS = {
    404: "No strategy has this id.",
    409: "Another strategy has this name, or the strategy trades live (stop it first).",
    412: "If-Match names another version than the current one.",
    422: "Invalid spec: `errors.json` maps each field path to its messages.",
}


def _may_fail_with(*codes: int) -> Callable[[F], F]:
    """Document the error responses a view can give (all in the ``Error`` shape)."""

    def decorate(view: F) -> F:
        for code in codes:
            view = blp.alt_response(code, schema="Error", description=_ERRORS[code])(view)
        return view

    return decorate


def _depth(value: Any) -> int:
    """How deeply JSON containers nest in ``value`` (iteratively, so any depth is safe to measure)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def json_object() -> dict[str, Any]:
    """The body as a JSON object: 413 when too big, 415 for another media type, 400 if unparsable, 422 if no object."""
    request.max_content_length = min(MAX_SPEC_BYTES, request.max_content_length or MAX_SPEC_BYTES)
    try:
        body = request.get_json()  # raises 413 / 415 / 400 itself
    except RecursionError:  # nesting deeper than the JSON parser handles
        abort(400, message="The JSON body is nested too deeply.")
    if _depth(body) > MAX_SPEC_DEPTH:
        abort(400, message=f"The JSON body nests deeper than {MAX_SPEC_DEPTH} levels.")
    if not isinstance(body, dict):
        abort(422, message="The body must be a JSON object.", errors={"json": {"": ["expected a JSON object"]}})
    return body


def expected_version() -> int | None:
    """The version named by ``If-Match`` (``None`` when absent or ``*``); 412 if it names no version.

    An empty header (``If-Match:`` or ``If-Match: ""``) names no version either: 412, as any other
    tag that is not one of ours, rather than a write that ignores it.
    """
    if "If-Match" in request.headers and not request.headers["If-Match"].strip():
        abort(412, message="If-Match is empty.", errors=_if_match_error("empty: send the ETag read, or no header"))
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    tags = if_match.as_set()  # strong tags only: If-Match never matches a weak one
    tag = tags.pop() if len(tags) == 1 else None  # werkzeug reads `If-Match: ""` as one tag of None
    if not tag or not _VERSION_TAG.fullmatch(tag):
        abort(
            412,
            message="If-Match must hold one ETag, as sent in a strategy's ETag header.",
            errors=_if_match_error("expected one ETag, as sent in the ETag header"),
        )
    return int(tag)


def _if_match_error(reason: str) -> dict[str, dict[str, list[str]]]:
    return {"headers": {"If-Match": [reason]}}


def shown(strategies: list[Strategy]) -> list[dict[str, Any]]:
    """Strategies as responses show them: each with its ``live`` state, ``null`` unless it trades.

    The live state comes from the active set in Redis, what the engine trades, or from MongoDB's
    record of it while Redis is unreachable (strategy reads keep working then).
    """
    ids = [strategy.id for strategy in strategies]
    try:
        live = {
            sid: {"active": True, "mode": entry.mode, "cash": entry.cash, "since": entry.since}
            for sid, entry in active_entries(redis_client(), ids).items()
        }
    except redis.RedisError:
        docs = mongo_db()[STRATEGIES].find({"_id": {"$in": [ObjectId(sid) for sid in ids]}, "live.active": True})
        live = {str(doc["_id"]): _stored_live(doc["live"]) for doc in docs}
    return [{**vars(strategy), "live": live.get(strategy.id)} for strategy in strategies]


_dumped_without_live: dict[tuple[str, int], dict[str, Any]] = {}
_DUMPED_KEPT = 4096
_without_live = StrategySchema(exclude=("live",))


def listed(strategies: list[Strategy]) -> list[dict[str, Any]]:
    """:func:`shown`, already dumped by ``StrategySchema``: what a list page answers.

    A strategy's dump changes only with its version, so each process keeps it by id and version and
    adds the live state, already in its dumped form, per request. Dumping a page of 20 anew took a
    quarter of the API's CPU for ``GET /strategies`` (py-spy at 500 req/s, 2026-12-05).
    """
    items = []
    for strategy in shown(strategies):
        key = (strategy["id"], strategy["version"])
        dumped = _dumped_without_live.get(key)
        if dumped is None:
            if len(_dumped_without_live) >= _DUMPED_KEPT:
                _dumped_without_live.clear()
            dumped = _dumped_without_live[key] = _without_live.dump(strategy)
        items.append({**dumped, "live": strategy["live"]})
    return items


def _stored_live(stored: dict[str, Any]) -> dict[str, Any]:
    started = stored.get("started_at")
    since = int(started.replace(tzinfo=UTC).timestamp() * 1000) if started else 0
    return {"active": True, "mode": stored.get("mode", "paper"), "cash": stored.get("cash"), "since": since}


def refuse_if_live(strategy_id: str) -> None:
    """409 if the strategy trades live: changing or deleting it would leave the engine's positions unmanaged.

    The active set in Redis decides; MongoDB's record of it while Redis is unreachable.
    """
    try:
        live = active_entry(redis_client(), strategy_id) is not None
    except redis.RedisError:
        live = ObjectId.is_valid(strategy_id) and bool(
            mongo_db()[STRATEGIES].count_documents({"_id": ObjectId(strategy_id), "live.active": True})
        )
    if live:
        abort(
            409,
            message=(
                "The strategy trades live: stop it first with POST /api/v1/strategies/"
                f"{strategy_id}/stop (with close_positions if it holds positions), then retry."
            ),
        )


def _etag(strategy: Strategy) -> dict[str, str]:
    return {"ETag": f'"{strategy.version}"'}


@blp.route("")
class StrategyCollection(MethodView):
    @blp.arguments(StrategyListArgsSchema, location="query", as_kwargs=True, unknown=RAISE)  # a typo is an error
    @blp.response(200, page_schema(StrategySchema, "StrategyPage"))
    def get(self, page: int, per_page: int, name: str | None = None):
        """List strategies by name, a page at a time."""
        items, total = strategy_repository().list(page, per_page, name)
        return jsonify(page_of(listed(items), page, per_page, total))  # a Response: not dumped again

    @blp.doc(requestBody=_SPEC_BODY)
    @blp.response(201, StrategySchema, headers={"Location": {"schema": {"type": "string"}}})
    @_may_fail_with(409, 422)
    def post(self):
        """Create a strategy from a spec."""
        strategy = strategy_repository().create(json_object())
        location = url_for("strategies.StrategyItem", strategy_id=strategy.id)
        return shown([strategy])[0], {"Location": location, **_etag(strategy)}


@blp.route("/validate")
class StrategyValidation(MethodView):
    @blp.doc(requestBody=_SPEC_BODY)
    @blp.response(200, ValidationSchema)
    @_may_fail_with(422)
    def post(self):
        """Check a spec without storing it: its normalised form, warm-up and indicators, or every error at its path."""
        spec = validate_spec(json_object())
        lookbacks = spec.lookbacks()
        indicators = {}
        for name, indicator in spec.indicators.items():
            function = TALIB_FUNCTIONS[indicator.function]
            indicators[name] = {
                "function": indicator.function,
                "params": {key: resolve_value(value, spec.params) for key, value in indicator.params.items()},
                "inputs": dict(indicator.inputs),
                "series": list(indicator.series),
                "pane": function.pane,
                "lookback": max(lookbacks[series] for series in indicator.series),
            }
        return {"valid": True, "spec": spec.to_dict(), "warmup_bars": spec.warmup_bars, "indicators": indicators}


@blp.route("/<strategy_id>")
class StrategyItem(MethodView):
    @blp.response(200, StrategySchema)
    @_may_fail_with(404)
    def get(self, strategy_id: str):
        """Read one strategy."""
        strategy = strategy_repository().get(strategy_id)
        return shown([strategy])[0], _etag(strategy)

    @blp.doc(requestBody=_SPEC_BODY, parameters=[_IF_MATCH])
    @blp.response(200, StrategySchema)
    @_may_fail_with(404, 409, 412, 422)
    def put(self, strategy_id: str):
        """Replace a strategy's spec (its name may change too); 409 while it trades live."""
        refuse_if_live(strategy_id)
        strategy = strategy_repository().replace(strategy_id, json_object(), expected_version())
        return shown([strategy])[0], _etag(strategy)

    @blp.doc(requestBody=_PATCH_BODY, parameters=[_IF_MATCH])
    @blp.response(200, StrategySchema)
    @_may_fail_with(404, 409, 412, 422)
    def patch(self, strategy_id: str):
        """Change part of a spec with a JSON merge patch (RFC 7386); null removes a field. 409 while it trades live."""
        refuse_if_live(strategy_id)
        strategy = strategy_repository().patch(strategy_id, json_object(), expected_version())
        return shown([strategy])[0], _etag(strategy)

    @blp.response(204)
    @_may_fail_with(404, 409)
    def delete(self, strategy_id: str):
        """Delete a strategy; 409 while it trades live."""
        refuse_if_live(strategy_id)
        strategy_repository().delete(strategy_id)


class StrategyChartArgsSchema(ChartArgsSchema):
    symbol = fields.String(metadata={"description": "Defaults to the spec's first symbol"})


class ChartFormingCandleSchema(Schema):
    t = fields.Integer(metadata={"description": "Open time, epoch ms"})
    o = fields.Float()
    h = fields.Float()
    l = fields.Float()
    c = fields.Float()
    v = fields.Float()


FillColumnsSchema = Schema.from_dict(
    {
        "time": fields.List(fields.Integer(), metadata={"description": "Candle open time the order belongs to"}),
        "price": fields.List(fields.Float()),
        "side": fields.List(fields.String(validate=validate.OneOf(["buy", "sell"]))),
        "size": fields.List(fields.Float()),
        "commission": fields.List(fields.Float()),
        "reason": fields.List(fields.String(), metadata={"description": "open, close, or the exit reason"}),
    },
    name="FillColumns",
)


class StrategyChartSchema(ChartSchema):
    strategy_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "The strategy version charted"})
    live_from = fields.Integer(
        allow_none=True, metadata={"description": "Open time of the first candle from the live working set"}
    )
    forming = fields.Nested(
        ChartFormingCandleSchema, allow_none=True, metadata={"description": "The live candle forming"}
    )
    fills = fields.Nested(FillColumnsSchema, required=True, metadata={"description": "The paper broker's fills"})


@blp.route("/<strategy_id>/chart")
class StrategyChart(MethodView):
    @blp.arguments(StrategyChartArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, StrategyChartSchema)
    @blp.alt_response(404, schema="Error", description="No strategy has this id.")
    @blp.alt_response(422, schema="Error", description="A bad query argument, or a symbol without candles, named.")
    def get(self, strategy_id: str, max_bars: int, symbol: str | None = None, **window: int):
        """The strategy's current spec on stored history followed by the live working set: candles, indicators,
        its live trades as markers and its paper fills, in ``[start, end)``, at most ``max_bars`` candles."""
        strategy = strategy_repository().get(strategy_id)
        try:
            symbol = normalize_symbol(symbol or strategy.spec["symbols"][0])
        except CandleDataError as exc:
            abort(422, message="The symbol is not valid.", errors={"query": {"symbol": [str(exc)]}})
        start, end = window.get("start"), window.get("end")
        body = strategy_chart_body(mongo_db(), redis_client(), strategy, symbol, start, end, max_bars)
        if body is None:
            problem = f"no {symbol} {strategy.spec['timeframe']} candles, stored or live"
            abort(422, message=f"There is nothing to chart: {problem}.", errors={"query": {"symbol": [problem]}})
        return Response(body, mimetype="application/json")
