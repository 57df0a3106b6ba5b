"""Live trading: start and stop strategies, the live dashboard's reads, and trades.

Starting and stopping write MongoDB (the truth, used to rebuild) and Redis (what the
engine reads). Every ``/live/*`` read comes from Redis only, so the dashboard never
loads MongoDB; ``/trades`` reads the ``trade_logs`` archive. The event stream
(``/live/stream``) is served by a process of its own (``app.stream``; its ticket and
documentation are in ``app.api.stream``).
"""

from __future__ import annotations

import json
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from tasks.live import start_strategy, stop_strategy
from tickflow.storage import keys
from tickflow.storage.accounts import accounts
from tickflow.storage.active import active_entries
from tickflow.storage.candle_rows import parse_rows
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.strategies import StrategyNotFound
from tickflow.storage.trade_logs import STATUSES, TradeLogRepository

blp = Blueprint("live", __name__, url_prefix="/api/v1", description="Live trading")

CANDLES_SHOWN = 100


class StartSchema(Schema):
    mode = fields.String(load_default="paper", validate=validate.OneOf(["paper"]))
    cash = fields.Float(load_default=10_000.0, validate=validate.Range(min=0, min_inclusive=False, max=1e15))


class StopSchema(Schema):
    close_positions = fields.Boolean(load_default=False)


class TradeArgsSchema(Schema):
    strategy_id = fields.String()
    symbol = fields.String(validate=validate.Length(max=30))
    status = fields.String(validate=validate.OneOf(STATUSES))
    start = fields.Integer(metadata={"description": "Opened at or after (epoch ms)"})
    end = fields.Integer(metadata={"description": "Opened before (epoch ms)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


@blp.route("/strategies/<strategy_id>/start")
class Start(MethodView):
    @blp.arguments(StartSchema)
    @blp.response(200)
    def post(self, body: dict[str, Any], strategy_id: str):
        """Start trading a strategy live (``paper`` only so far)."""
        try:
            entry = start_strategy(strategy_id, body["mode"], body["cash"])
        except StrategyNotFound:
            abort(404, message="No strategy has this id.")
        return {"strategy_id": strategy_id, "active": True, **entry}


@blp.route("/strategies/<strategy_id>/stop")
class Stop(MethodView):
    @blp.arguments(StopSchema)
    @blp.response(200)
    def post(self, body: dict[str, Any], strategy_id: str):
        """Stop trading a strategy; with ``close_positions`` its open positions are closed at the last price first."""
        try:
            entry = stop_strategy(strategy_id, body["close_positions"])
        except StrategyNotFound:
            abort(404, message="No strategy has this id.")
        return {"strategy_id": strategy_id, "active": False, "was_active": entry is not None}


@blp.route("/live/strategies")
class ActiveStrategies(MethodView):
    @blp.response(200)
    def get(self):
        """The active set."""
        return [{"strategy_id": sid, **entry.__dict__} for sid, entry in active_entries(redis_client()).items()]


@blp.route("/live/symbols/<symbol>")
class SymbolState(MethodView):
    @blp.response(200)
    def get(self, symbol: str):
        """Last tick, forming and recent closed candles per timeframe, and strategies' indicator values."""
        client = redis_client()
        symbol = symbol.upper()
        frames = json.loads(client.hget(keys.live_timeframes(), symbol) or '{"1m": 0}')
        result: dict[str, Any] = {
            "symbol": symbol,
            "last_tick": _numbers(client.hgetall(keys.last_tick(symbol))),
            "late_ticks": int(client.hget(keys.late_ticks(), symbol) or 0),
            "timeframes": {},
        }
        for timeframe in frames:
            closed = parse_rows(client.lrange(keys.closed_candles(symbol, timeframe), -CANDLES_SHOWN, -1))
            indicators = {
                sid: json.loads(raw) for sid, raw in client.hgetall(keys.indicator_values(symbol, timeframe)).items()
            }
            result["timeframes"][timeframe] = {
                "forming": _numbers(client.hgetall(keys.current_candle(symbol, timeframe))),
                "closed": closed,
                "indicators": indicators,
            }
        return result


@blp.route("/live/signals")
class Signals(MethodView):
    @blp.response(200)
    def get(self):
        """Each strategy and symbol's latest signal."""
        return [json.loads(raw) for raw in redis_client().hgetall(keys.last_signals()).values()]


@blp.route("/live/positions")
class Positions(MethodView):
    @blp.response(200)
    def get(self):
        """Every active strategy's account per symbol, marked at the last price."""
        return accounts(redis_client())


@blp.route("/live/equity")
class Equity(MethodView):
    @blp.response(200)
    def get(self):
        """Per strategy: the sum of its accounts' equity and of their starting cash."""
        totals: dict[str, dict[str, float]] = {}
        for account in accounts(redis_client()):
            total = totals.setdefault(account["strategy_id"], {"equity": 0.0, "cash": 0.0})
            total["equity"] += account["equity"]
            total["cash"] += account["cash"]
        return [{"strategy_id": sid, **total} for sid, total in totals.items()]


@blp.route("/trades")
class Trades(MethodView):
    @blp.arguments(TradeArgsSchema, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]):
        """Archived live trades, newest first, filtered and paged."""
        items, total = TradeLogRepository(mongo_db()).find(
            strategy_id=args.get("strategy_id"), symbol=args.get("symbol", "").upper() or None,
            status=args.get("status"), start_ms=args.get("start"), end_ms=args.get("end"),
            page=args["page"], per_page=args["per_page"],
        )  # fmt: skip
        for item in items:
            for name in ("opened_at", "closed_at", "updated_at"):
                if item.get(name) is not None:
                    item[name] = item[name].isoformat()
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


def _numbers(raw: dict[str, str]) -> dict[str, float | int]:
    return {name: (int(value) if name in ("t", "ts", "ot", "ct", "n") else float(value)) for name, value in raw.items()}
