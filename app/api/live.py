"""Live trading: start and stop strategies, the live dashboard's reads, trades and venue orders.

Starting and stopping write MongoDB (the truth, used to rebuild) and Redis (what the
engine reads). Every ``/live/*`` read comes from Redis only, so the dashboard never
loads MongoDB; ``/trades`` reads the ``trade_logs`` archive, ``/orders`` the order ledger. The event stream
(``/live/stream``) is served by a process of its own (``app.stream``; its ticket and
documentation are in ``app.api.stream``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate, validates_schema

from app.schemas import MAX_PAGE, EpochMsField, TimeField, check_end_after_start
from app.series import sampled
from tasks.live import start_strategy, stop_strategy
from tickflow.storage import keys
from tickflow.storage.accounts import accounts
from tickflow.storage.active import (
    MODES,
    LiveStartRefused,
    OrderUnsettled,
    PositionsHeld,
    PositionsOpen,
    active_entries,
    entry_pauses,
    limit_stops,
)
from tickflow.storage.candle_rows import parse_rows
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.equity_history import COLUMNS, EquityHistoryRepository, columns, outbox_points
from tickflow.storage.order_ledger import STATES, OrderLedger
from tickflow.storage.strategies import StrategyNotFound
from tickflow.storage.trade_logs import STATUSES, TradeLogRepository

blp = Blueprint("live", __name__, url_prefix="/api/v1", description="Live trading")

CANDLES_SHOWN = 100
DEFAULT_HISTORY_POINTS = 2_000
MAX_HISTORY_POINTS = 20_000


class StartSchema(Schema):
    mode = fields.String(
        load_default="paper",
        validate=validate.OneOf(MODES),
        metadata={"description": "paper: the paper broker; live: the venue of TICKFLOW_EXCHANGE (docs/exchanges.md)"},
    )
    cash = fields.Float(load_default=10_000.0, validate=validate.Range(min=0, min_inclusive=False, max=1e15))


class StopSchema(Schema):
    close_positions = fields.Boolean(load_default=False)


class LiveEntrySchema(Schema):
    mode = fields.String(required=True, metadata={"description": "paper or live"})
    cash = fields.Float(required=True, metadata={"description": "Each account's cash when its run started"})
    symbols = fields.List(fields.String(), required=True)
    timeframe = fields.String(required=True)
    bars = fields.Integer(required=True, metadata={"description": "Working-set length it wants"})
    since = fields.Integer(required=True, metadata={"description": "When its run started (epoch ms; 0: unknown)"})


class EntryPauseSchema(Schema):
    since = fields.Integer(required=True, metadata={"description": "Epoch ms"})
    code = fields.Integer(metadata={"description": "The venue's error code (Binance: -2010)"})
    reason = fields.String(metadata={"description": "The venue's message"})
    rejections = fields.Integer(metadata={"description": "Orders refused in a row for lack of balance"})


class ActiveStrategySchema(LiveEntrySchema):
    strategy_id = fields.String(required=True)
    entries_paused = fields.Nested(
        EntryPauseSchema,
        allow_none=True,
        metadata={"description": "Set while its entries are paused by repeated balance rejections (until a start)"},
    )


class StartedSchema(ActiveStrategySchema):
    active = fields.Boolean(required=True)


class LimitStopSchema(Schema):
    """A strategy a loss limit (``risk.limits``) stopped; kept until it starts again."""

    strategy_id = fields.String(required=True)
    limit = fields.String(required=True, metadata={"description": "max_daily_loss or max_drawdown"})
    time = fields.Integer(required=True, metadata={"description": "Open time of the candle whose close tripped it"})
    bar = fields.Integer(required=True, metadata={"description": "The same, as the engine's bar number"})
    equity = fields.Float(required=True, metadata={"description": "The account's equity at that close"})
    reference = fields.Float(
        required=True,
        metadata={"description": "What the loss is measured from: the day's starting equity, or the peak"},
    )
    loss = fields.Float(
        allow_none=True, required=True, metadata={"description": "1 - equity / reference; null if reference <= 0"}
    )
    threshold = fields.Float(required=True, metadata={"description": "The limit in force (a fraction)"})
    stopped_at = fields.Integer(required=True, metadata={"description": "When the strategy was stopped (epoch ms)"})


class StoppedSchema(Schema):
    strategy_id = fields.String(required=True)
    active = fields.Boolean(required=True)
    was_active = fields.Boolean(required=True)


class AccountSchema(Schema):
    """One strategy's account on one symbol, marked at the symbol's last tick."""

    strategy_id = fields.String(required=True)
    symbol = fields.String(required=True)
    cash = fields.Float(required=True, metadata={"description": "What the account started its run with"})
    side = fields.String(required=True, validate=validate.OneOf(["long", "short", "flat"]))
    size = fields.Float(required=True)
    entry_price = fields.Float(allow_none=True, required=True)
    entry_time = fields.Integer(allow_none=True, required=True, metadata={"description": "Entry candle, epoch ms"})
    price = fields.Float(allow_none=True, required=True, metadata={"description": "Last tick; null before one"})
    unrealised_pnl = fields.Float(required=True)
    balance = fields.Float(required=True, metadata={"description": "Cash plus realised PnL of the run"})
    equity = fields.Float(required=True, metadata={"description": "balance + unrealised_pnl"})


class StrategyEquitySchema(Schema):
    """A strategy's accounts summed: every figure is the sum of its rows in ``/live/positions``."""

    strategy_id = fields.String(required=True)
    cash = fields.Float(required=True)
    balance = fields.Float(required=True)
    unrealised_pnl = fields.Float(required=True)
    equity = fields.Float(required=True)
    positions = fields.Integer(required=True, metadata={"description": "Accounts holding a position"})


class LiveCandleSchema(Schema):
    t = fields.Integer(required=True, metadata={"description": "Open time, epoch ms"})
    o = fields.Float(required=True)
    h = fields.Float(required=True)
    l = fields.Float(required=True)
    c = fields.Float(required=True)
    v = fields.Float(required=True)


class FormingCandleSchema(LiveCandleSchema):
    ot = fields.Integer(metadata={"description": "Time of its first tick"})
    ct = fields.Integer(metadata={"description": "Time of its latest tick"})
    n = fields.Integer(metadata={"description": "Ticks in it"})


class TickSchema(Schema):
    ts = fields.Integer(required=True)
    p = fields.Float(required=True)
    q = fields.Float(required=True)


class IndicatorValuesSchema(Schema):
    t = fields.Integer(required=True, metadata={"description": "The close they were computed at"})
    values = fields.Dict(
        keys=fields.String(), values=fields.Float(allow_none=True), required=True, metadata={"description": "null: NaN"}
    )


class TimeframeStateSchema(Schema):
    forming = fields.Nested(FormingCandleSchema, allow_none=True, required=True)
    closed = fields.List(fields.Nested(LiveCandleSchema), required=True, metadata={"description": "The last 100"})
    indicators = fields.Dict(
        keys=fields.String(), values=fields.Nested(IndicatorValuesSchema), metadata={"description": "By strategy id"}
    )


class SymbolStateSchema(Schema):
    symbol = fields.String(required=True)
    last_tick = fields.Nested(TickSchema, allow_none=True, required=True)
    late_ticks = fields.Integer(required=True)
    timeframes = fields.Dict(keys=fields.String(), values=fields.Nested(TimeframeStateSchema), required=True)


class SignalSchema(Schema):
    strategy_id = fields.String(required=True)
    symbol = fields.String(required=True)
    timeframe = fields.String(required=True)
    t = fields.Integer(required=True, metadata={"description": "The close it was decided at, epoch ms"})
    order = fields.Raw(metadata={"description": "The order it left for the next open, if any"})
    pending = fields.Boolean(metadata={"description": "That order is not filled yet"})
    enter_long = fields.Boolean()
    exit_long = fields.Boolean()
    enter_short = fields.Boolean()
    exit_short = fields.Boolean()
    offsets = fields.List(fields.Float(allow_none=True), metadata={"description": "ATR parts of the risk distances"})


class TradeLogSchema(Schema):
    trade_id = fields.String(required=True)
    rev = fields.Integer(metadata={"description": "0 while open, 1 once closed"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    strategy_id = fields.String(required=True)
    symbol = fields.String(required=True)
    timeframe = fields.String()
    mode = fields.String()
    run = fields.Integer(metadata={"description": "The run it belongs to (its start, epoch ms)"})
    side = fields.String()
    size = fields.Float()
    entry_time = fields.Integer(metadata={"description": "Entry candle, epoch ms"})
    entry_price = fields.Float()
    entry_commission = fields.Float()
    exit_time = fields.Integer()
    exit_price = fields.Float()
    exit_reason = fields.String()
    pnl = fields.Float()
    commission = fields.Float()
    return_pct = fields.Float()
    stop = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True)
    trail_offset = fields.Float()
    trail_anchor = fields.Float()
    entry_order_id = fields.String()
    exit_order_id = fields.String()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime()
    updated_at = fields.DateTime()


class LiveTradePageSchema(Schema):
    items = fields.List(fields.Nested(TradeLogSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class EquityHistoryArgsSchema(Schema):
    strategy_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    start = TimeField(metadata={"description": "First point included: ISO-8601 or epoch seconds or ms"})
    end = TimeField(metadata={"description": "Where the range ends (excluded)"})
    max_points = fields.Integer(
        load_default=DEFAULT_HISTORY_POINTS,
        validate=validate.Range(min=2, max=MAX_HISTORY_POINTS),
        metadata={"description": "More points are sampled: the last point of each equal slice of time"},
    )

    @validates_schema
    def _end_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_end_after_start(data)


class EquityHistorySchema(Schema):
    """Columns, oldest first: a point per close of the strategy's timeframe while it traded."""

    strategy_id = fields.String(required=True)
    t = fields.List(fields.Integer(), required=True, metadata={"description": "Close times, epoch ms"})
    equity = fields.List(fields.Float(), required=True)
    balance = fields.List(fields.Float(), required=True)
    positions = fields.List(fields.Integer(), required=True, metadata={"description": "Accounts holding a position"})
    sampled = fields.Boolean(required=True, metadata={"description": "Whether points were left out (max_points)"})


class TradeArgsSchema(Schema):
    strategy_id = fields.String()
    symbol = fields.String(validate=validate.Length(max=30))
    status = fields.String(validate=validate.OneOf(STATUSES))
    start = EpochMsField(metadata={"description": "Opened at or after (epoch ms)"})
    end = EpochMsField(metadata={"description": "Opened before (epoch ms)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))

    @validates_schema
    def _end_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_end_after_start(data)


class OrderArgsSchema(Schema):
    strategy_id = fields.String(validate=validate.Length(max=64))
    symbol = fields.String(validate=validate.Length(max=30))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class OrderStepSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    at = fields.DateTime(required=True)
    detail = fields.String(metadata={"description": "Why: the venue's message, or what the reconciliation found"})


class VenueFeeSchema(Schema):
    asset = fields.String(required=True)
    amount = fields.Float(required=True)


class VenueOutcomeSchema(Schema):
    venue_order_id = fields.String()
    venue_status = fields.String(metadata={"description": "The venue's: FILLED, EXPIRED, ..."})
    requested = fields.Float(metadata={"description": "Quantity sent, rounded to the venue's step"})
    executed = fields.Float(metadata={"description": "What the account gained (net of a base-asset fee) or gave"})
    gross = fields.Float(metadata={"description": "Quantity traded"})
    average_price = fields.Float()
    quote = fields.Float(metadata={"description": "Quote traded"})
    commission = fields.Float(metadata={"description": "The fees in quote units (fees in a third asset excluded)"})
    fees = fields.List(fields.Nested(VenueFeeSchema))
    code = fields.Integer(allow_none=True, metadata={"description": "The venue's error code of a rejection"})


class VenueFillSchema(Schema):
    trade_id = fields.Integer(required=True, metadata={"description": "The venue's trade id"})
    price = fields.Float(required=True)
    quantity = fields.Float(required=True)
    fee = fields.Float(required=True)
    fee_asset = fields.String(required=True)


class OrderSchema(Schema):
    client_order_id = fields.String(required=True, attribute="_id")
    venue = fields.String(required=True)
    strategy_id = fields.String(required=True)
    symbol = fields.String(required=True)
    side = fields.String(required=True, metadata={"description": "buy or sell"})
    size = fields.Float(required=True, metadata={"description": "What the engine asked for"})
    price = fields.Float(required=True, metadata={"description": "The price the engine expected"})
    ts = fields.Integer(required=True, metadata={"description": "The candle the order belongs to (open, epoch ms)"})
    reason = fields.String(required=True, metadata={"description": "entry, or the exit's reason"})
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    adopted = fields.Boolean(
        load_default=False, metadata={"description": "Found on the venue by the reconciliation, not booked as sent"}
    )
    outcome = fields.Nested(VenueOutcomeSchema, allow_none=True)
    history = fields.List(fields.Nested(OrderStepSchema), required=True)
    fills = fields.List(fields.Nested(VenueFillSchema), required=True)
    updated_at = fields.DateTime()


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


@blp.route("/strategies/<strategy_id>/start")
class Start(MethodView):
    @blp.arguments(StartSchema)
    @blp.response(200, StartedSchema)
    @blp.alt_response(404, schema="Error", description="No strategy has this id.")
    @blp.alt_response(
        409,
        schema="Error",
        description="It holds positions from a run with other cash, or the venue cannot carry a live start.",
    )
    def post(self, body: dict[str, Any], strategy_id: str):
        """Start trading a strategy, on paper or (``live``) on the venue of ``TICKFLOW_EXCHANGE``.

        Flat, it starts a new run: every account holds ``cash`` again. Holding positions, it resumes
        its run, which keeps its cash: a start with other cash is a 409 (stop it with
        ``close_positions`` first). A live start is a 409 with the reason unless the venue trades
        every symbol, the spec has no short entries (spot), and the free quote balance not held by
        other live strategies covers ``cash`` on every symbol.
        """
        try:
            entry = start_strategy(strategy_id, body["mode"], body["cash"])
        except StrategyNotFound:
            abort(404, message="No strategy has this id.")
        except (PositionsOpen, LiveStartRefused) as error:
            abort(409, message=_sentence(error))
        return {"strategy_id": strategy_id, "active": True, **entry}


@blp.route("/strategies/<strategy_id>/stop")
class Stop(MethodView):
    @blp.arguments(StopSchema)
    @blp.response(200, StoppedSchema)
    @blp.alt_response(404, schema="Error", description="No strategy has this id.")
    @blp.alt_response(409, schema="Error", description="It holds positions and close_positions is false.")
    @blp.alt_response(503, schema="Error", description="A closing order's fate on the venue is not known yet.")
    def post(self, body: dict[str, Any], strategy_id: str):
        """Stop trading a strategy; with ``close_positions`` its open positions are closed at the last price first.

        A strategy holding positions stops only with ``close_positions`` (409 otherwise): stopped, nothing
        would manage them. To stop new entries and keep the positions under their stops, halt trading.
        """
        try:
            entry = stop_strategy(strategy_id, body["close_positions"])
        except StrategyNotFound:
            abort(404, message="No strategy has this id.")
        except PositionsHeld as error:
            abort(409, message=_sentence(error))
        except OrderUnsettled as error:
            abort(
                503,
                message=f"{_sentence(error)} The venue has not told what became of a closing order yet: "
                f"stop again in {max(1, round(error.retry_after_s))} s.",
            )
        return {"strategy_id": strategy_id, "active": False, "was_active": entry is not None}


@blp.route("/live/strategies")
class ActiveStrategies(MethodView):
    @blp.response(200, ActiveStrategySchema(many=True))
    def get(self):
        """The active set; ``entries_paused`` says why a live strategy's entries are paused."""
        client = redis_client()
        paused = entry_pauses(client)
        return [
            {"strategy_id": sid, **asdict(entry), "entries_paused": paused.get(sid)}
            for sid, entry in active_entries(client).items()
        ]


@blp.route("/live/limit-stops")
class LimitStops(MethodView):
    @blp.response(200, LimitStopSchema(many=True))
    def get(self):
        """Strategies a loss limit stopped (their positions closed), oldest first, each until it starts again."""
        return limit_stops(redis_client())


@blp.route("/live/symbols/<symbol>")
class SymbolState(MethodView):
    @blp.response(200, SymbolStateSchema)
    def get(self, symbol: str):
        """Last tick, forming and recent closed candles per timeframe, and strategies' indicator values."""
        client = redis_client()
        symbol = symbol.upper()
        frames = json.loads(client.hget(keys.live_timeframes(), symbol) or '{"1m": 0}')
        result: dict[str, Any] = {
            "symbol": symbol,
            "last_tick": _numbers(client.hgetall(keys.last_tick(symbol))) or None,
            "late_ticks": int(client.hget(keys.late_ticks(), symbol) or 0),
            "timeframes": {},
        }
        for timeframe in frames:
            closed = parse_rows(client.lrange(keys.closed_candles(symbol, timeframe), -CANDLES_SHOWN, -1))
            indicators = {
                sid: json.loads(raw) for sid, raw in client.hgetall(keys.indicator_values(symbol, timeframe)).items()
            }
            result["timeframes"][timeframe] = {
                "forming": _numbers(client.hgetall(keys.current_candle(symbol, timeframe))) or None,
                "closed": closed,
                "indicators": indicators,
            }
        return result


@blp.route("/live/signals")
class Signals(MethodView):
    @blp.response(200, SignalSchema(many=True))
    def get(self):
        """Each strategy and symbol's latest signal."""
        return [json.loads(raw) for raw in redis_client().hgetall(keys.last_signals()).values()]


@blp.route("/live/positions")
class Positions(MethodView):
    @blp.response(200, AccountSchema(many=True))
    def get(self):
        """Every active strategy's account per symbol, marked at the last price."""
        # The rows hold AccountSchema's JSON types already; dumping them again took a fifth of this
        # read's CPU, the one a dashboard polls most (profiled 2026-12-05). A Response is not dumped.
        return jsonify(accounts(redis_client()))


@blp.route("/live/equity")
class Equity(MethodView):
    @blp.response(200, StrategyEquitySchema(many=True))
    def get(self):
        """Per strategy, its accounts summed: cash, balance, unrealised PnL, equity and positions held."""
        summed = ("cash", "balance", "unrealised_pnl", "equity")
        totals: dict[str, dict[str, float]] = {}
        for account in accounts(redis_client()):
            total = totals.setdefault(account["strategy_id"], {**dict.fromkeys(summed, 0.0), "positions": 0})
            for name in summed:
                total[name] += account[name]
            total["positions"] += account["side"] != "flat"
        return [{"strategy_id": sid, **total} for sid, total in totals.items()]


@blp.route("/live/equity/history")
class EquityHistory(MethodView):
    @blp.arguments(EquityHistoryArgsSchema, location="query")
    @blp.response(200, EquityHistorySchema)
    def get(self, args: dict[str, Any]):
        """A strategy's equity, balance and positions held at every close it traded, from MongoDB.

        Points not yet copied from the engine's Redis outbox (MongoDB was away) are included.
        """
        sid, start, end = args["strategy_id"], args.get("start"), args.get("end")
        stored = EquityHistoryRepository(mongo_db()).read(sid, start, end)
        waiting = [value for _, value in redis_client().hscan_iter(keys.equity_outbox(), match=f"{sid}:*")]
        if waiting:
            merged = [dict(zip(("t", *COLUMNS), row)) for row in zip(*(stored[c].tolist() for c in ("t", *COLUMNS)))]
            stored = columns(merged + outbox_points(waiting), start, end)
        keep = sampled(stored["t"], args["max_points"])
        return {
            "strategy_id": sid,
            **{name: values[keep].tolist() for name, values in stored.items()},
            "sampled": len(keep) < len(stored["t"]),
        }


@blp.route("/trades")
class Trades(MethodView):
    @blp.arguments(TradeArgsSchema, location="query")
    @blp.response(200, LiveTradePageSchema)
    def get(self, args: dict[str, Any]):
        """Archived live trades, newest first, filtered and paged."""
        items, total = TradeLogRepository(mongo_db()).find(
            strategy_id=args.get("strategy_id"), symbol=args.get("symbol", "").upper() or None,
            status=args.get("status"), start_ms=args.get("start"), end_ms=args.get("end"),
            page=args["page"], per_page=args["per_page"],
        )  # fmt: skip
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(OrderArgsSchema, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, args: dict[str, Any]):
        """Orders sent to the venue by live strategies (the order ledger), newest candle first: each state they
        went through, what the venue reported, and their fills by the venue's trade id. Paper orders are not here:
        their fills are the trades'."""
        items, total = OrderLedger(mongo_db()).find(
            strategy_id=args.get("strategy_id"), symbol=args.get("symbol", "").upper() or None,
            page=args["page"], per_page=args["per_page"],
        )  # fmt: skip
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


def _numbers(raw: dict[str, str]) -> dict[str, float | int]:
    return {name: (int(value) if name in ("t", "ts", "ot", "ct", "n") else float(value)) for name, value in raw.items()}
