"""``POST /api/v1/live/stream/ticket``, and the documentation of the stream it opens.

The live stream (``GET /api/v1/live/stream``, Server-Sent Events) is served by a process
of its own (``app.stream``), so that open dashboards never hold the API's threads. A
browser's ``EventSource`` cannot send an ``Authorization`` header, and a token must
never go in a URL (access logs keep URLs): a page asks this API for a ticket with its
token, then opens ``<url>?ticket=<ticket>``. A ticket opens one stream, within 60 s.

The stream's path, parameters and events are documented here, in the API's OpenAPI
document, although this process never serves it (:func:`document`).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import request
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from werkzeug.routing import Rule

from app import context
from app.stream import HEALTH_ROUTE, HEARTBEAT_S, MAX_STREAM_S, ROUTE
from tickflow.storage import keys
from tickflow.storage.connections import redis_client
from tickflow.storage.events import EVENTS_LENGTH

TICKET_TTL_S = 60

blp = Blueprint("stream", __name__, url_prefix=ROUTE, description="Live event stream (served by the stream process)")


class TicketSchema(Schema):
    ticket = fields.String(metadata={"description": "Opens one stream, as ?ticket= on url"})
    expires_in = fields.Integer(metadata={"description": "Seconds the ticket stays valid if unused"})
    url = fields.String(metadata={"description": "The stream's URL (STREAM_URL when set)"})


@blp.route("/ticket")
class Ticket(MethodView):
    @blp.response(200, TicketSchema)
    @blp.alt_response(401, schema="Error", description="No valid API token.")
    @blp.alt_response(503, schema="Error", description="Redis is unreachable.")
    def post(self):
        """A ticket that opens the live stream once, within 60 s: ``new EventSource(`${url}?ticket=${ticket}`)``."""
        ticket = secrets.token_urlsafe(32)
        redis_client().set(keys.stream_ticket(ticket), "1", ex=TICKET_TTL_S)
        return {"ticket": ticket, "expires_in": TICKET_TTL_S, "url": stream_url()}


def stream_url() -> str:
    """``STREAM_URL``, else this request's scheme and host name with the stream's port."""
    settings = context.settings()
    if settings.stream_url:
        return settings.stream_url
    host = urlsplit(request.host_url).hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{settings.stream_port}{ROUTE}"


# -- the stream's documentation -----------------------------------------------------------------


class CandleEventSchema(Schema):
    symbol = fields.String()
    timeframe = fields.String()
    t = fields.Integer(metadata={"description": "Open time (epoch ms)"})
    o = fields.Float()
    h = fields.Float()
    l = fields.Float()
    c = fields.Float()
    v = fields.Float(metadata={"description": "Volume"})


class SignalEventSchema(Schema):
    strategy_id = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    t = fields.Integer(metadata={"description": "Open time of the candle whose close decided (epoch ms)"})
    order = fields.String(metadata={"description": "none, long, short or flat: the order the position wants"})
    pending = fields.Boolean(metadata={"description": "The order changes the position (it is placed next)"})
    enter_long = fields.Boolean()
    exit_long = fields.Boolean()
    enter_short = fields.Boolean()
    exit_short = fields.Boolean()
    offsets = fields.List(
        fields.Float(allow_none=True),
        metadata={"description": "ATR parts of the stop, target and trailing distances; null during warm-up"},
    )


class _ExecutionSchema(Schema):
    """What an order and its fill both say."""

    client_order_id = fields.String(
        metadata={
            "description": "32 characters a venue accepts: tf1, then the strategy, a code of the symbol, the"
            " candle open time and the action (strategies/client_ids.py)"
        }
    )
    strategy_id = fields.String()
    symbol = fields.String()
    side = fields.String(metadata={"description": "buy or sell"})
    size = fields.Float()
    price = fields.Float()
    commission = fields.Float()


class OrderEventSchema(_ExecutionSchema):
    ts = fields.Integer(metadata={"description": "Open time of the candle the order belongs to (epoch ms)"})
    reason = fields.String(metadata={"description": "open, or why a position closes (signal, stop_loss...)"})


class FillEventSchema(_ExecutionSchema):
    ts = fields.Integer(metadata={"description": "When it filled (epoch ms)"})
    venue_order_id = fields.String(metadata={"description": "live only: the venue's order id"})
    status = fields.String(metadata={"description": "live only: the venue's order status (FILLED, EXPIRED...)"})
    requested = fields.Float(metadata={"description": "live only: the size sent, rounded to the venue's step"})
    gross = fields.Float(metadata={"description": "live only: the size traded; size is it net of a base-asset fee"})
    fees = fields.List(fields.Dict(), metadata={"description": "live only: [{asset, amount}] as the venue charged"})


class RejectedEventSchema(Schema):
    client_order_id = fields.String()
    strategy_id = fields.String()
    symbol = fields.String()
    side = fields.String(metadata={"description": "buy or sell"})
    size = fields.Float()
    kind = fields.String(metadata={"description": "rejected (by the venue), not_sent (by its filters) or partial"})
    code = fields.Integer(allow_none=True, metadata={"description": "The venue's error code (Binance: -2010...)"})
    reason = fields.String()


class SkippedEventSchema(Schema):
    strategy_id = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    time = fields.Integer(metadata={"description": "When the entry would have filled (epoch ms)"})
    bar = fields.Integer(metadata={"description": "Its candle's open time (epoch ms)"})
    side = fields.String(metadata={"description": "long or short"})
    price = fields.Float(metadata={"description": "The price it would have filled at"})
    equity = fields.Float(metadata={"description": "The account's equity then"})
    reason = fields.String(
        metadata={
            "description": "size_below_step, below_min_qty, below_min_notional, above_max_notional "
            "(risk.limits.max_position_notional) or no_equity"
        }
    )


class MismatchEventSchema(Schema):
    strategy_id = fields.String()
    symbol = fields.String()
    mode = fields.String()
    engine_size = fields.Float(metadata={"description": "Signed: > 0 long, < 0 short"})
    broker_size = fields.Float()
    since = fields.Integer(metadata={"description": "When the difference was first seen (epoch ms)"})
    confirmed = fields.Boolean()
    reason = fields.String(
        metadata={"description": "For a venue: a close that left part held, or what the reconciliation found"}
    )


class ForeignEventSchema(Schema):
    venue_order_id = fields.String()
    client_order_id = fields.String(metadata={"description": "Not a TickFlow id: placed by hand or another bot"})
    symbol = fields.String()
    side = fields.String(metadata={"description": "buy or sell"})
    status = fields.String(metadata={"description": "The venue's: NEW, FILLED, ..."})
    executed = fields.Float()
    time = fields.Integer(metadata={"description": "When the venue took it (epoch ms)"})


class BrokerEventSchema(Schema):
    strategy_id = fields.String()
    action = fields.String(metadata={"description": "paused: its entries, until it starts again"})
    rejections = fields.Integer(metadata={"description": "Its venue orders refused in a row for lack of balance"})
    code = fields.Integer(metadata={"description": "The venue's error code (Binance: -2010)"})
    reason = fields.String(metadata={"description": "The venue's message"})
    since = fields.Integer(metadata={"description": "When its entries were paused (epoch ms)"})


class JobEventSchema(Schema):
    kind = fields.String(metadata={"description": "backtest, sweep or download (whose chunks are candles)"})
    id = fields.String(metadata={"description": "The run's, the sweep's or the download's id"})
    state = fields.String(metadata={"description": "queued, running, done, failed or cancelled"})
    stage = fields.String(
        metadata={
            "description": "What the execution that sent it entered: loading, running, storing (downloading, for a "
            "download), or finished"
        }
    )
    chunks_done = fields.Integer(metadata={"description": "A run is one chunk"})
    chunks_total = fields.Integer()
    error = fields.String(metadata={"description": "Why it failed (only when state is failed)"})


class HaltEventSchema(Schema):
    halted = fields.Boolean(metadata={"description": "true: trading halted (or now flattening too); false: resumed"})
    since = fields.Integer(metadata={"description": "When the halt began (epoch ms); absent on resume"})
    flatten = fields.Boolean(metadata={"description": "Every position is being closed at its symbol's next tick"})
    by = fields.String(metadata={"description": "Who halted or resumed: a token's name, or cli"})
    reason = fields.String()


class LimitEventSchema(Schema):
    """An entry the halt or a risk limit blocked, or a loss limit that stops the strategy (``action`` stop)."""

    strategy_id = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    t = fields.Integer(
        metadata={"description": "Open time of the candle whose close left the order, or tripped the loss limit"}
    )
    limit = fields.String(
        metadata={
            "description": "halt, broker (entries paused), max_total_exposure or max_orders_per_minute (an entry "
            "blocked); "
            "max_daily_loss or max_drawdown (action stop)"
        }
    )
    order = fields.String(metadata={"description": "The blocked order: long or short (an entry)"})
    action = fields.String(
        metadata={
            "description": "cancelled, or flat (a reversal that only exits); stop: the position closes at the "
            "next open and the strategy is stopped"
        }
    )
    value = fields.Float(
        metadata={
            "description": "Risk limits: what was measured -- orders sent in the last minute, the strategy's "
            "exposure with the entry, or the loss (a fraction)"
        }
    )
    threshold = fields.Float(metadata={"description": "Risk limits: the limit in force"})
    equity = fields.Float(metadata={"description": "stop: the account's equity at that close"})
    reference = fields.Float(metadata={"description": "stop: the day's starting equity, or the peak"})


class StaleEventSchema(Schema):
    symbol = fields.String()
    timeframe = fields.String(metadata={"description": "The shortest timeframe it is traded on"})
    last_tick = fields.Integer(allow_none=True, metadata={"description": "Epoch ms; null before the first tick"})
    age_s = fields.Float(allow_none=True)
    stale = fields.Boolean(metadata={"description": "true: no tick for 2 periods; false: it ticks again"})


class QuarantineEventSchema(Schema):
    symbol = fields.String()
    reason = fields.String(metadata={"description": "future (stamped ahead of the host clock) or price_band"})
    count = fields.Integer(metadata={"description": "Ticks of this symbol the rule kept out of one batch"})
    ts = fields.Integer(metadata={"description": "The first one's time (epoch ms)"})
    price = fields.Float(metadata={"description": "The first one's price"})
    reference = fields.Float(metadata={"description": "The host clock (future) or the last price (price_band)"})


EVENTS: dict[str, type[Schema]] = {
    "candle": CandleEventSchema,
    "signal": SignalEventSchema,
    "order": OrderEventSchema,
    "fill": FillEventSchema,
    "rejected": RejectedEventSchema,
    "skipped": SkippedEventSchema,
    "mismatch": MismatchEventSchema,
    "foreign": ForeignEventSchema,
    "broker": BrokerEventSchema,
    "job": JobEventSchema,
    "halt": HaltEventSchema,
    "limit": LimitEventSchema,
    "stale": StaleEventSchema,
    "quarantine": QuarantineEventSchema,
}
"""Each event type (``tickflow.storage.events.TYPES``) and the schema of its ``data`` line."""

STREAM_DESCRIPTION = f"""Server-Sent Events, served by the stream process (`tickflow stream`), not by this API:
open it at the `url` that `POST {ROUTE}/ticket` answers.

Each event is `id: <stream id>`, `event: <type>` and `data: <JSON>`, where the JSON is the
event type's schema (`x-events` below): numbers are JSON numbers, and values not known
yet (indicator warm-up) are `null`. A comment line (`: heartbeat`) comes every {HEARTBEAT_S:g} s;
a stream ends cleanly after {MAX_STREAM_S / 60:g} minutes, and the browser reconnects after the
`retry:` delay.

Resuming: a client that reconnects sends the last id it saw as `Last-Event-ID` or
`?last_id=` (a page opening a new `EventSource` with a new ticket: a ticket opens one
stream), and the stream sends every event after that id still kept (the newest
{EVENTS_LENGTH:,}), then the new ones, with no gap and no duplicate. Without either,
the stream starts with the next event."""


def document(api: Api) -> None:
    """Add ``GET /api/v1/live/stream`` and its events' schemas to ``api``'s OpenAPI document."""
    spec = api.spec
    spec.components.security_scheme("streamTicket", {"type": "apiKey", "in": "query", "name": "ticket"})
    for kind, schema in EVENTS.items():
        spec.components.schema(f"{kind.capitalize()}Event", schema=schema)
    # flask-smorest's path helper reads a Flask rule: given one, though no view serves it here.
    spec.path(rule=Rule(ROUTE), operations={"get": _stream_operation(), "options": _preflight_operation()})
    spec.path(rule=Rule(HEALTH_ROUTE), operations={"get": _health_operation()})


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _stream_operation() -> dict[str, Any]:
    return {
        "tags": ["stream"],
        "summary": "The live events as Server-Sent Events",
        "description": STREAM_DESCRIPTION,
        "security": [{"streamTicket": []}, {"bearerAuth": []}],
        "parameters": [
            {
                "name": "ticket",
                "in": "query",
                "description": f"From POST {ROUTE}/ticket: opens one stream, within 60 s",
                "schema": {"type": "string"},
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "description": "Resume after this event id (EventSource sends it when it reconnects)",
                "schema": {"type": "string", "pattern": r"^\d+-\d+$", "example": "1700000000000-0"},
            },
            {
                "name": "last_id",
                "in": "query",
                "description": "Resume after this event id, for clients that cannot send Last-Event-ID",
                "schema": {"type": "string", "pattern": r"^\d+-\d+$"},
            },
        ],
        "responses": {
            "200": {
                "description": f"The stream; it stays open (up to {MAX_STREAM_S / 60:g} minutes)",
                "content": {
                    "text/event-stream": {
                        "schema": {"type": "string"},
                        "example": (
                            "retry: 1000\n\nid: 1700000060012-0\nevent: candle\ndata: "
                            '{"symbol":"BTCUSDT","timeframe":"1m","t":1700000000000,"o":37000.5,'
                            '"h":37012.0,"l":36990.25,"c":37005.0,"v":12.5}\n\n: heartbeat\n\n'
                        ),
                    }
                },
                "x-events": {kind: {"$ref": f"#/components/schemas/{kind.capitalize()}Event"} for kind in EVENTS},
            },
            "400": _error("Last-Event-ID or last_id is not an event id."),
            "401": _error("No ticket (or it was used or expired) and no valid bearer token."),
            "503": _error("Redis is unreachable."),
        },
    }


def _preflight_operation() -> dict[str, Any]:
    return {
        "tags": ["stream"],
        "summary": "CORS preflight",
        "description": "Allows GET with Authorization and Last-Event-ID from the CORS_ORIGINS origins.",
        "security": [],
        "responses": {"204": {"description": "Access-Control-Allow-* headers for an allowed origin, none otherwise"}},
    }


def _health_operation() -> dict[str, Any]:
    status = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "redis": {"type": "string", "enum": ["up", "down"]},
            "streams": {"type": "integer", "description": "Streams open in this process"},
            "last_event_id": {"type": "string", "nullable": True},
        },
    }
    body = {"application/json": {"schema": status}}
    return {
        "tags": ["stream"],
        "summary": "Is the stream process following the live events? (no auth)",
        "security": [],
        "responses": {
            "200": {"description": "Following them", "content": body},
            "503": {"description": "Redis is unreachable", "content": body},
        },
    }
