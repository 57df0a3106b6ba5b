"""``GET /api/v1/status``: what ``tickflow status`` shows, as JSON (``app.status`` collects it).

Unlike ``/health`` it names servers and lists strategies and jobs, so it needs a token; and it
asks the workers directly, so it takes up to ``timeout`` seconds: a page to open, not to poll.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.halt import HaltStateSchema
from app.api.live import AccountSchema, LimitStopSchema
from app.status import platform_status

blp = Blueprint("status", __name__, url_prefix="/api/v1/status", description="The platform at a glance")


class StatusArgsSchema(Schema):
    timeout = fields.Float(
        load_default=1.0, validate=validate.Range(min=0.1, max=10), metadata={"description": "Seconds workers get"}
    )


class ServiceStatusSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["up", "down"]))
    where = fields.String(required=True, metadata={"description": "host:port/database, never credentials"})
    latency_ms = fields.Float()
    error = fields.String(metadata={"description": "The kind of failure, when down"})


class ServicesSchema(Schema):
    redis = fields.Nested(ServiceStatusSchema, required=True)
    broker = fields.Nested(ServiceStatusSchema, required=True)
    mongodb = fields.Nested(ServiceStatusSchema, required=True)


class WorkerStatusSchema(Schema):
    name = fields.String(required=True)
    queues = fields.List(fields.String(), required=True)
    running = fields.Integer(required=True)
    tasks = fields.List(fields.String(), required=True, metadata={"description": "Names of the tasks running"})


class QueueStatusSchema(Schema):
    name = fields.String(required=True)
    waiting = fields.Integer(required=True)
    consumed = fields.Boolean(required=True, metadata={"description": "A worker that answered consumes it"})
    stray = fields.Boolean(required=True, metadata={"description": "Not a queue this deployment sends to"})


class QueuesSchema(Schema):
    shards = fields.Integer(required=True)
    queues = fields.List(fields.Nested(QueueStatusSchema), required=True)


class StatusAccountSchema(AccountSchema):
    strategy_name = fields.String(allow_none=True)


class SymbolFreshnessSchema(Schema):
    symbol = fields.String(required=True)
    last_tick = fields.Integer(allow_none=True, required=True, metadata={"description": "Epoch ms"})
    age_s = fields.Float(allow_none=True, required=True, metadata={"description": "Seconds since the last tick"})
    timeframe = fields.String(required=True, metadata={"description": "The shortest timeframe it is traded on"})
    stale = fields.Boolean(
        required=True, metadata={"description": "No tick for 2 periods of that timeframe: is the feed running?"}
    )


class LiveStatusSchema(Schema):
    accounts = fields.List(fields.Nested(StatusAccountSchema), required=True)
    symbols = fields.List(fields.Nested(SymbolFreshnessSchema), required=True)
    outbox = fields.Integer(required=True, metadata={"description": "Trade records waiting for MongoDB"})
    halt = fields.Nested(HaltStateSchema, allow_none=True, required=True, metadata={"description": "null: trading"})
    limit_stops = fields.List(
        fields.Nested(LimitStopSchema),
        required=True,
        metadata={"description": "Strategies a loss limit stopped, until they start again (GET /live/limit-stops)"},
    )


class RunningBacktestSchema(Schema):
    id = fields.String(required=True)
    state = fields.String(required=True)
    symbol = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)


class RunningSweepSchema(Schema):
    id = fields.String(required=True)
    state = fields.String(required=True)
    symbol = fields.String(allow_none=True)
    chunks_done = fields.Integer(required=True)
    chunks_total = fields.Integer(required=True)
    combos_done = fields.Integer(required=True)


class JobsStatusSchema(Schema):
    backtests = fields.List(fields.Nested(RunningBacktestSchema), required=True)
    sweeps = fields.List(fields.Nested(RunningSweepSchema), required=True)


class StatusSchema(Schema):
    services = fields.Nested(ServicesSchema, required=True)
    workers = fields.List(fields.Nested(WorkerStatusSchema), allow_none=True, required=True)
    queues = fields.Nested(QueuesSchema, allow_none=True, required=True)
    live = fields.Nested(LiveStatusSchema, allow_none=True, required=True)
    jobs = fields.Nested(JobsStatusSchema, allow_none=True, required=True)
    problems = fields.List(fields.String(), required=True, metadata={"description": "Empty when all is well"})


@blp.route("")
@blp.arguments(StatusArgsSchema, location="query")
@blp.response(200, StatusSchema)
def status(args: dict[str, Any]):
    """Services, workers, queue depths, live accounts, each live symbol's last tick, the outbox, running jobs.

    A section whose store is down is null, with the reason among ``problems``.
    """
    return platform_status(args["timeout"])
