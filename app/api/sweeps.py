"""``/api/v1/sweeps``: run a strategy over a grid of parameters, follow the chunks, read the ranking.

``POST`` plans the whole sweep before queueing anything (parameter names and
values, the constraint, the objective, the number of parameter sets: any
problem is a 422 naming the field), stores it with its chunks and sends one
task per chunk; it answers ``202``. A sweep's page shows its chunks by state
and the best result so far; ``.../results`` pages through the ranking.
``.../resume`` sends again the chunks that are not done, after a worker died
or a chunk failed. ``.../heatmap`` lays the objective over two parameters.
``DELETE`` cancels a queued or running sweep and removes a finished one.
docs/backtest-jobs.md has the whole story.
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, fields, validate

from app.api.backtests import (
    INVALID_REQUEST,
    JobListArgsSchema,
    TargetOutSchema,
    TargetSchema,
    install_error_handlers,
)
from app.context import strategy_repository
from app.schemas import PageArgsSchema, page_of, page_schema
from backtests.defaults import DEFAULT_OBJECTIVE, MAX_CHUNK_SIZE
from backtests.sweeps import heatmap, stat_names, unknown_stat
from strategies.document import did_you_mean, joined
from tasks.backtests import resume_sweep, submit_sweep
from tickflow.storage.backtest_results import State, SweepRepository
from tickflow.storage.connections import mongo_db

blp = Blueprint("sweeps", __name__, url_prefix="/api/v1/sweeps", description="Parameter sweeps")
install_error_handlers(blp, "sweep")

MAX_RESULTS_PER_PAGE = 500


class SweepCreateSchema(TargetSchema):
    grid = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={
            "description": "Parameter -> a value, a list of values, or {start, stop, step} (stop included)",
            "example": {"fast": {"start": 5, "stop": 50, "step": 5}, "slow": [50, 100, 200]},
        },
    )
    random = fields.Dict(
        metadata={
            "description": "{n, seed}: run n parameter sets drawn from the grid",
            "example": {"n": 200, "seed": 7},
        }
    )
    constraint = fields.String(metadata={"description": "A rule over params only", "example": "$fast < $slow"})
    objective = fields.String(load_default=DEFAULT_OBJECTIVE, metadata={"description": "The stat to rank by"})
    maximize = fields.Boolean(load_default=True)
    chunk_size = fields.Integer(
        validate=validate.Range(min=1, max=MAX_CHUNK_SIZE),
        metadata={"description": "Parameter sets per task (chosen when absent)"},
    )


class ResultSchema(Schema):
    rank = fields.Integer()
    combo = fields.Integer(metadata={"description": "The parameter set's number in the sweep"})
    params = fields.Dict()
    score = fields.Float(allow_none=True, metadata={"description": "The objective, negated when minimising"})
    stats = fields.Dict(allow_none=True)
    skipped = fields.Dict(metadata={"description": "Entries skipped, by reason (size_below_step, below_min_qty, ...)"})
    no_trades_reason = fields.String(
        allow_none=True, metadata={"description": "Why no trade closed, when none did (every entry skipped, ...)"}
    )
    error = fields.String(metadata={"description": "Why the strategy refused this parameter set"})


class SweepSchema(TargetOutSchema):
    space = fields.Dict(metadata={"description": "Each swept parameter's values"})
    random = fields.Dict(allow_none=True)
    constraint = fields.String(allow_none=True)
    objective = fields.String()
    maximize = fields.Boolean()
    combos = fields.Integer(metadata={"description": "Parameter sets to run"})
    chunks_total = fields.Integer()
    chunk_size = fields.Integer()
    progress = fields.Dict(metadata={"description": "Chunks per state (queued, running, done, failed), combos_done"})
    best = fields.Nested(ResultSchema, allow_none=True, metadata={"description": "The best result so far"})
    skipped = fields.Dict(
        metadata={"description": "Entries skipped by the sets run so far: combos (sets that skipped any), by_reason"}
    )


class SweepSummarySchema(SweepSchema):
    """A sweep in a list, without its spec."""

    class Meta:
        exclude = ("spec",)


class ResumedSchema(Schema):
    sweep = fields.Nested(SweepSchema)
    resumed_chunks = fields.Integer(metadata={"description": "Chunks sent again"})


class HeatmapArgsSchema(Schema):
    x = fields.String(required=True, metadata={"description": "A swept parameter, across"})
    y = fields.String(required=True, metadata={"description": "Another swept parameter, down"})
    objective = fields.String(metadata={"description": "The stat shown (default: the sweep's objective)"})


class HeatmapAxisSchema(Schema):
    param = fields.String(required=True)
    values = fields.List(fields.Float(), required=True, metadata={"description": "The swept values, ascending"})


class HeatmapBestSchema(Schema):
    x = fields.Float(required=True)
    y = fields.Float(required=True)
    value = fields.Float(required=True)


class HeatmapSchema(Schema):
    x = fields.Nested(HeatmapAxisSchema, required=True)
    y = fields.Nested(HeatmapAxisSchema, required=True)
    objective = fields.String(required=True)
    maximize = fields.Boolean(
        required=True, metadata={"description": "The sweep's: which end of the objective is best"}
    )
    z = fields.List(
        fields.List(fields.Float(allow_none=True)),
        required=True,
        metadata={"description": "A row per y value, a column per x value; null where no result has a value"},
    )
    best = fields.Nested(
        HeatmapBestSchema, allow_none=True, metadata={"description": "The best result's x, y and objective"}
    )
    fixed = fields.Dict(
        keys=fields.String(), values=fields.Float(), required=True, metadata={"description": "The other swept params"}
    )
    state = fields.String(required=True)
    complete = fields.Boolean(
        required=True, metadata={"description": "False until the sweep is done: the cells are the results so far"}
    )


class ResultPageArgsSchema(PageArgsSchema):
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_RESULTS_PER_PAGE))


def _with_progress(repository: SweepRepository, sweep: dict) -> dict:
    """The sweep with its progress, best result and skipped entries, counted from its chunks and results now."""
    best, _ = repository.ranking(sweep["_id"], 0, 1)
    return {
        **sweep,
        "progress": {"chunks_total": sweep["chunks_total"], **repository.progress(sweep["_id"])},
        "best": {"rank": 1, **best[0]} if best else None,
        "skipped": repository.skipped(sweep["_id"]),
    }


def _location(sweep: dict) -> dict[str, str]:
    return {"Location": url_for("sweeps.SweepItem", sweep_id=str(sweep["_id"]))}


@blp.route("")
class SweepCollection(MethodView):
    @blp.arguments(JobListArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, page_schema(SweepSummarySchema, "SweepPage"))
    def get(self, page: int, per_page: int, **filters: str):
        """List sweeps, newest first, with their progress."""
        repository = SweepRepository(mongo_db())
        items, total = repository.list(page, per_page, **filters)
        return page_of([_with_progress(repository, sweep) for sweep in items], page, per_page, total)

    @blp.arguments(SweepCreateSchema)
    @blp.response(202, SweepSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(422, schema="Error", description=INVALID_REQUEST)
    @blp.alt_response(503, schema="Error", description="The task queue is unreachable.")
    def post(self, request: dict[str, Any]):
        """Plan a sweep and queue its chunks."""
        db = mongo_db()
        sweep = submit_sweep(db, strategy_repository(), **request)
        return _with_progress(SweepRepository(db), sweep), _location(sweep)


@blp.route("/<sweep_id>")
class SweepItem(MethodView):
    @blp.response(200, SweepSchema)
    @blp.alt_response(404, schema="Error", description="No sweep has this id.")
    def get(self, sweep_id: str):
        """Read a sweep: its state, chunks done of all, and the best result so far."""
        repository = SweepRepository(mongo_db())
        return _with_progress(repository, repository.get(sweep_id))

    @blp.response(200, SweepSchema, description="The sweep was queued or running: it is cancelled")
    @blp.alt_response(204, description="The sweep was finished: it is removed, with its chunks and results")
    @blp.alt_response(404, schema="Error", description="No sweep has this id.")
    @blp.alt_response(409, schema="Error", description="The sweep finished while it was being cancelled.")
    def delete(self, sweep_id: str):
        """Cancel a queued or running sweep (chunks not yet started will not start), or remove a done, failed
        or cancelled one."""
        repository = SweepRepository(mongo_db())
        cancelled = repository.delete(sweep_id)
        return _with_progress(repository, cancelled) if cancelled is not None else Response(status=204)


@blp.route("/<sweep_id>/resume")
class SweepResume(MethodView):
    @blp.response(202, ResumedSchema)
    @blp.alt_response(404, schema="Error", description="No sweep has this id.")
    @blp.alt_response(409, schema="Error", description="The sweep is done or cancelled.")
    def post(self, sweep_id: str):
        """Send again every chunk that is not done (after a worker died, or a chunk failed)."""
        db = mongo_db()
        sweep, resumed = resume_sweep(db, sweep_id)
        return {"sweep": _with_progress(SweepRepository(db), sweep), "resumed_chunks": resumed}


@blp.route("/<sweep_id>/results")
class SweepResults(MethodView):
    @blp.arguments(ResultPageArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, page_schema(ResultSchema, "ResultPage"))
    @blp.alt_response(404, schema="Error", description="No sweep has this id.")
    def get(self, sweep_id: str, page: int, per_page: int):
        """The results so far, best first (parameter sets without a score last), a page at a time."""
        repository = SweepRepository(mongo_db())
        sweep = repository.get(sweep_id)
        offset = (page - 1) * per_page
        results, total = repository.ranking(sweep["_id"], offset, per_page)
        ranked = [{"rank": offset + index + 1, **result} for index, result in enumerate(results)]
        return page_of(ranked, page, per_page, total)


@blp.route("/<sweep_id>/heatmap")
class SweepHeatmap(MethodView):
    @blp.arguments(HeatmapArgsSchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, HeatmapSchema)
    @blp.alt_response(404, schema="Error", description="No sweep has this id.")
    @blp.alt_response(422, schema="Error", description="An unknown param or objective, or x equal to y, named.")
    def get(self, sweep_id: str, x: str, y: str, objective: str | None = None):
        """The objective over two swept params, the others at the best result's values: a matrix for a heatmap.

        Answered at any state: until the sweep is done, ``complete`` is false and the cells hold the results so far.
        """
        repository = SweepRepository(mongo_db())
        sweep = repository.get(sweep_id)
        objective = objective or sweep["objective"]
        _check_heatmap(sweep["space"], x, y, objective)
        results = repository.results(sweep["_id"], ["params", f"stats.{objective}"])
        found = heatmap(sweep["space"], results, x, y, objective, sweep["maximize"])
        return {
            **found,
            "x": {"param": x, "values": found["x"]},
            "y": {"param": y, "values": found["y"]},
            "objective": objective,
            "maximize": sweep["maximize"],
            "state": sweep["state"],
            "complete": sweep["state"] == State.DONE,
        }


def _check_heatmap(space: dict[str, list], x: str, y: str, objective: str) -> None:
    """422 naming each of ``x``, ``y``, ``objective`` that the sweep cannot draw."""
    errors: dict[str, list[str]] = {}
    for field, param in (("x", x), ("y", y)):
        if param not in space:
            errors[field] = [joined(f"{param!r} is not a swept parameter", did_you_mean(param, space))]
    if x == y:
        errors.setdefault("y", []).append("must be another parameter than x")
    if objective not in stat_names():
        errors["objective"] = [unknown_stat(objective)]
    if errors:
        abort(422, message="The heatmap cannot be drawn so.", errors={"query": errors})
