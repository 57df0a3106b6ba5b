"""``/api/v1/backtests``: queue backtest runs, follow them, read their results, cancel them.

``POST`` checks the request, stores a ``queued`` run holding a snapshot of the
strategy and sends a task carrying only the run's id; it answers ``202`` with
the run and its ``Location``. A worker moves it to ``running`` (``progress``
names the stage: loading, running, storing) and then ``done`` or ``failed``
(``error`` says why). ``DELETE`` cancels a queued or running run and removes
a finished one with its arrays. The run's page carries the stats, the open
trades, an equity chart of at most ~1,000 points (with buy-and-hold and
drawdown beside it) and the returns per month; the full curves, the trades
and the chart of candles, indicators and trades are read from their own
endpoints. docs/backtest-jobs.md has the whole story.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, fields, validate

from app.charts import BACKTEST_CHARTS, backtest_chart
from app.context import strategy_repository
from app.errors import error_response
from app.jsonbody import dumps_bytes
from app.schemas import ChartArgsSchema, ChartSchema, PageArgsSchema, RangeArgsSchema, TimeField, page_of, page_schema
from app.series import sampled
from backtests.defaults import DEFAULT_CASH
from backtests.errors import InvalidRequest, RunFailed
from strategies.curves import drawdown
from tasks.backtests import EnqueueFailed, submit_backtest
from tickflow.storage.backtest_results import BacktestRepository, JobNotFound, State, WrongState
from tickflow.storage.connections import mongo_db

blp = Blueprint("backtests", __name__, url_prefix="/api/v1/backtests", description="Backtest runs")

MAX_TRADES_PER_PAGE = 1000
MAX_EQUITY_POINTS = 1_000_000
INVALID_REQUEST = "Invalid request: `errors.json` maps each field to its messages."


def install_error_handlers(blueprint: Blueprint, what: str) -> None:
    """Answer the job layer's exceptions in the API's error shape (``what``: "backtest", "sweep")."""
    handlers: dict[type[Exception], Callable[[Any], Any]] = {
        JobNotFound: lambda error: error_response(404, f"No {what} has this id."),
        WrongState: lambda error: error_response(409, f"{_sentence(error)}."),
        InvalidRequest: lambda error: error_response(422, f"The {what} request is invalid.", {"json": error.errors}),
        EnqueueFailed: lambda error: error_response(503, f"{_sentence(error)}; the {what} was marked failed."),
    }
    for exception, handler in handlers.items():
        blueprint.register_error_handler(exception, handler)


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]


install_error_handlers(blp, "backtest")


class TargetSchema(Schema):
    """What a backtest or a sweep runs on, besides its strategy."""

    strategy_id = fields.String(required=True)
    symbol = fields.String(metadata={"description": "Defaults to the strategy's first symbol"})
    start = TimeField(metadata={"description": "First candle included: ISO-8601 or epoch seconds or ms"})
    end = TimeField(metadata={"description": "Where the range ends (excluded): ISO-8601 or epoch seconds or ms"})
    cash = fields.Float(load_default=DEFAULT_CASH, metadata={"description": "Starting cash"})


class BacktestCreateSchema(TargetSchema):
    params = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "Overrides of the strategy's params", "example": {"fast": 12}},
    )


class JobListArgsSchema(PageArgsSchema):
    strategy_id = fields.String()
    state = fields.String(validate=validate.OneOf(list(State)))


class BacktestListArgsSchema(JobListArgsSchema):
    symbol = fields.String()


class TargetOutSchema(Schema):
    """The snapshot a backtest or sweep runs, and its bookkeeping."""

    id = fields.String(attribute="_id", metadata={"description": "ObjectId, as 24 hex digits"})
    strategy_id = fields.String()
    strategy_name = fields.String()
    strategy_version = fields.Integer(metadata={"description": "The strategy's version when this was created"})
    spec = fields.Dict(metadata={"description": "Snapshot of the strategy spec this runs, params applied"})
    params = fields.Dict()
    symbol = fields.String()
    timeframe = fields.String()
    start = fields.Integer(allow_none=True, metadata={"description": "Epoch ms, or null for the first candle"})
    end = fields.Integer(allow_none=True, metadata={"description": "Epoch ms (excluded), or null for the last"})
    cash = fields.Float()
    state = fields.String(validate=validate.OneOf(list(State)))
    error = fields.String(metadata={"description": "Why it failed"})
    created_at = fields.DateTime()
    started_at = fields.DateTime()
    finished_at = fields.DateTime()


class MonthlyReturnsSchema(Schema):
    year = fields.Integer()
    months = fields.List(
        fields.Float(allow_none=True),
        metadata={"description": "12 returns as fractions, January first; null for a month without bars"},
    )
    total = fields.Float(allow_none=True, metadata={"description": "The year's return, as a fraction"})


class BacktestSchema(TargetOutSchema):
    progress = fields.Dict(metadata={"description": "stage: queued, claimed, loading, running, storing, done"})
    attempts = fields.Integer(metadata={"description": "Executions started; more than 1 after a worker died"})
    worker = fields.Dict(metadata={"description": "hostname and pid of the latest execution"})
    task_id = fields.String()
    stats = fields.Dict()
    n_trades = fields.Integer(metadata={"description": "Closed trades (GET .../trades)"})
    bars = fields.Integer()
    open_trades = fields.List(fields.Dict(), metadata={"description": "Held at the end, marked at the last close"})
    equity_chart = fields.Dict(
        metadata={
            "description": "ts, equity, buy_hold and drawdown (fractions, <= 0) at the same at most ~1,000 points, "
            "drawing the curves"
        }
    )
    monthly_returns = fields.List(
        fields.Nested(MonthlyReturnsSchema),
        metadata={"description": "Per year with bars: the return of each calendar month (UTC) and of the year"},
    )
    skipped = fields.Dict(
        metadata={
            "description": "Entry signals that placed no order: total, by_reason (size_below_step, below_min_qty, "
            "below_min_notional, above_max_notional, no_equity) and the first few with time, bar, side, price, "
            "equity and reason"
        }
    )
    stopped_by = fields.Dict(
        allow_none=True,
        metadata={
            "description": "The loss limit (risk.limits) that stopped the strategy: limit (max_daily_loss or "
            "max_drawdown), time and bar of the close that tripped it, equity there, reference (the day's starting "
            "equity or the peak), loss and threshold (fractions); null if none did"
        },
    )
    timings = fields.Dict()


class BacktestSummarySchema(BacktestSchema):
    """A run in a list: what a single run's page adds (spec, chart, open trades) is left out."""

    class Meta:
        exclude = ("spec", "equity_chart", "open_trades", "monthly_returns")


class TradeSchema(Schema):
    side = fields.String()
    size = fields.Float()
    entry_time = fields.Integer(metadata={"description": "Epoch ms"})
    entry_price = fields.Float()
    exit_time = fields.Integer(metadata={"description": "Epoch ms"})
    exit_price = fields.Float()
    pnl = fields.Float()
    return_pct = fields.Float()
    commission = fields.Float()
    exit_reason = fields.String()
    is_open = fields.Boolean()
    entry_bar = fields.Integer()
    exit_bar = fields.Integer()
    duration_ms = fields.Integer()


class TradePageArgsSchema(PageArgsSchema):
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_TRADES_PER_PAGE))


class EquityArgsSchema(RangeArgsSchema):
    max_points = fields.Integer(
        validate=validate.Range(min=2, max=MAX_EQUITY_POINTS),
        metadata={"description": "At most this many points: the last of each equal slice of time (default: all)"},
    )


class EquitySchema(Schema):
    ts = fields.List(fields.Integer(), metadata={"description": "Epoch ms of every bar (or sampled point)"})
    equity = fields.List(fields.Float(), metadata={"description": "Account value at every close"})
    buy_hold = fields.List(
        fields.Float(), metadata={"description": "The starting cash held in the symbol from the first open"}
    )
    drawdown = fields.List(fields.Float(), metadata={"description": "equity / running peak - 1 (over the whole run)"})


class BacktestChartSchema(ChartSchema):
    run_id = fields.String(required=True)


CHART_FIELDS = dict.fromkeys(
    ("state", "spec", "symbol", "timeframe", "stats", "n_trades", "open_trades", "arrays_attempt"), 1
)
"""What a chart reads of a run's document: not its small chart of the equity, nor its monthly returns."""


def _location(run: dict) -> dict[str, str]:
    return {"Location": url_for("backtests.BacktestItem", run_id=str(run["_id"]))}


def _done(run: dict) -> dict:
    """The run if it is done; 409 otherwise (trades and the curve exist only then)."""
    if run["state"] != State.DONE:
        abort(409, message=f"The backtest is {run['state']}: its results exist once it is done.")
    return run


@blp.route("")
class BacktestCollection(MethodView):
    @blp.arguments(BacktestListArgsSchema, location="query", as_kwargs=True, unknown=RAISE)  # a typo is an error
    @blp.response(200, page_schema(BacktestSummarySchema, "BacktestPage"))
    def get(self, page: int, per_page: int, **filters: str):
        """List backtest runs, newest first, without their spec, chart and open trades."""
        if "symbol" in filters:
            filters["symbol"] = filters["symbol"].strip().upper()  # stored normalised
        items, total = BacktestRepository(mongo_db()).list(page, per_page, **filters)
        return page_of(items, page, per_page, total)

    @blp.arguments(BacktestCreateSchema)
    @blp.response(202, BacktestSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(422, schema="Error", description=INVALID_REQUEST)
    @blp.alt_response(503, schema="Error", description="The task queue is unreachable.")
    def post(self, request: dict[str, Any]):
        """Queue a backtest of a stored strategy."""
        run = submit_backtest(mongo_db(), strategy_repository(), **request)
        return run, _location(run)


@blp.route("/<run_id>")
class BacktestItem(MethodView):
    @blp.response(200, BacktestSchema)
    @blp.alt_response(404, schema="Error", description="No backtest has this id.")
    def get(self, run_id: str):
        """Read a run: its state and progress, and once done its stats, open trades and equity chart."""
        return BacktestRepository(mongo_db()).get(run_id)

    @blp.response(200, BacktestSchema, description="The run was queued or running: it is cancelled")
    @blp.alt_response(204, description="The run was finished: it is removed, with its trades and curves")
    @blp.alt_response(404, schema="Error", description="No backtest has this id.")
    @blp.alt_response(409, schema="Error", description="The run finished while it was being cancelled.")
    def delete(self, run_id: str):
        """Cancel a queued or running run (its worker stops at the next stage and stores nothing), or remove a
        done, failed or cancelled one."""
        cancelled = BacktestRepository(mongo_db()).delete(run_id)
        return cancelled if cancelled is not None else Response(status=204)


@blp.route("/<run_id>/trades")
class BacktestTrades(MethodView):
    @blp.arguments(TradePageArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, page_schema(TradeSchema, "TradePage"))
    @blp.alt_response(404, schema="Error", description="No backtest has this id.")
    @blp.alt_response(409, schema="Error", description="The run is not done.")
    def get(self, run_id: str, page: int, per_page: int):
        """The closed trades of a done run, in order, a page at a time."""
        repository = BacktestRepository(mongo_db())
        run = _done(repository.get(run_id))
        trades = repository.trades(run, (page - 1) * per_page, per_page)
        return page_of(trades.to_dicts(), page, per_page, run["n_trades"])


@blp.route("/<run_id>/equity")
class BacktestEquity(MethodView):
    @blp.arguments(EquityArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, EquitySchema)
    @blp.alt_response(404, schema="Error", description="No backtest has this id.")
    @blp.alt_response(409, schema="Error", description="The run is not done.")
    def get(self, run_id: str, start: int | None = None, end: int | None = None, max_points: int | None = None):
        """The equity, buy-and-hold and drawdown curves of a done run: one point per bar in ``[start, end)``
        (a million-bar run answers ~50 MB), or at most ``max_points`` of them."""
        repository = BacktestRepository(mongo_db())
        curves = repository.curves(_done(repository.get(run_id, {"equity_chart": 0, "monthly_returns": 0})))
        ts = curves["ts"]
        lo = 0 if start is None else int(np.searchsorted(ts, start))
        hi = len(ts) if end is None else int(np.searchsorted(ts, end))
        curves["drawdown"] = drawdown(curves["equity"][:hi])  # its running peak starts with the run
        keep = np.arange(lo, hi) if max_points is None else lo + sampled(ts[lo:hi], max_points)
        # Written directly: a schema would spend seconds on a million points.
        body = dumps_bytes({name: values[keep] for name, values in curves.items()})
        return Response(body, mimetype="application/json")


@blp.route("/<run_id>/chart")
class BacktestChart(MethodView):
    @blp.arguments(ChartArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, BacktestChartSchema)
    @blp.alt_response(404, schema="Error", description="No backtest has this id.")
    @blp.alt_response(409, schema="Error", description="The run is not done, or its snapshot no longer validates.")
    @blp.alt_response(422, schema="Error", description=INVALID_REQUEST)
    def get(self, run_id: str, max_bars: int, start: int | None = None, end: int | None = None):
        """A done run's candles, its spec snapshot's indicators and its trades as markers, in ``[start, end)``,
        merged into at most ``max_bars`` candles."""
        db = mongo_db()
        run = _done(BacktestRepository(db).get(run_id, CHART_FIELDS))
        key = (str(run["_id"]), run["arrays_attempt"], start, end, max_bars)  # a done run never changes
        body = BACKTEST_CHARTS.get(key)
        if body is None:
            try:
                body = backtest_chart(db, run, start, end, max_bars)
            except RunFailed as exc:  # its snapshot no longer validates
                abort(409, message=f"The backtest cannot be charted: {exc}.")
            BACKTEST_CHARTS.put(key, body)
        return Response(body, mimetype="application/json")
