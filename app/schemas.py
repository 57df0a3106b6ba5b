"""Marshmallow schemas for what the API returns and for its query strings.

Request bodies of strategies are not described here: they are strategy
specs, which :func:`strategies.spec.validate_spec` alone defines and checks.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from tickflow.times import epoch_number_ms, parse_time_ms

MAX_PER_PAGE = 100
# Far beyond any real listing, and small enough that (page - 1) * per_page fits MongoDB's 64-bit skip.
MAX_PAGE = 1_000_000


class StrategyLiveSchema(Schema):
    active = fields.Boolean(required=True)
    mode = fields.String(required=True)
    cash = fields.Float(allow_none=True, metadata={"description": "Each account's cash when its run started"})
    since = fields.Integer(required=True, metadata={"description": "When its run started, epoch ms (0: unknown)"})


class StrategySchema(Schema):
    id = fields.String(metadata={"description": "ObjectId, as 24 hex digits"})
    name = fields.String()
    spec = fields.Dict(metadata={"description": "The normalised strategy spec"})
    version = fields.Integer(metadata={"description": "1 on creation, +1 on every write; also the ETag"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    live = fields.Nested(StrategyLiveSchema, allow_none=True, metadata={"description": "null unless it trades live"})


class ResolvedIndicatorSchema(Schema):
    function = fields.String(required=True)
    params = fields.Dict(
        keys=fields.String(), values=fields.Float(), required=True, metadata={"description": "Resolved"}
    )
    inputs = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    series = fields.List(fields.String(), required=True, metadata={"description": "What rules call its outputs"})
    pane = fields.String(required=True, validate=validate.OneOf(["price", "separate"]))
    lookback = fields.Integer(required=True, metadata={"description": "Leading bars without a value"})


class ValidationSchema(Schema):
    valid = fields.Boolean(required=True)
    spec = fields.Dict(required=True, metadata={"description": "The normalised spec, as it would be stored"})
    warmup_bars = fields.Integer(required=True, metadata={"description": "Bars before every rule has its values"})
    indicators = fields.Dict(keys=fields.String(), values=fields.Nested(ResolvedIndicatorSchema), required=True)


def page_of(items: list, page: int, per_page: int, total: int, **extra: Any) -> dict[str, Any]:
    """One page of a listing, in the envelope every listing answers with."""
    return {
        **extra,
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": math.ceil(total / per_page),
    }


def page_schema(item: type[Schema], name: str, **extra: fields.Field) -> type[Schema]:
    """The schema of :func:`page_of`'s envelope around ``item``s (plus ``extra`` fields)."""
    return Schema.from_dict(
        {
            **extra,
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(metadata={"description": "Matching items on all pages"}),
            "pages": fields.Integer(),
        },
        name=name,
    )


MIN_TIME_MS = 0
MAX_TIME_MS = 253_402_300_799_999
"""Every time the API reads lies in 1970-01-01 .. 9999-12-31T23:59:59.999Z (epoch ms): what a
datetime, MongoDB and the charts all hold."""
_TIME_RANGE = "must be from 1970-01-01 to 9999-12-31 (epoch ms 0 to 253402300799999)"


def check_time_ms(value: int) -> int:
    """``value`` if within the API's time range, else a ValidationError saying the range."""
    if not MIN_TIME_MS <= value <= MAX_TIME_MS:
        raise ValidationError(_TIME_RANGE)
    return value


class EpochMsField(fields.Integer):
    """Epoch milliseconds as an integer, within the API's time range."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        return check_time_ms(super()._deserialize(value, attr, data, **kwargs))


class TimeField(fields.String):
    """A moment as ISO-8601 (UTC when no offset) or epoch seconds or milliseconds, loaded as epoch ms.

    Numbers follow :mod:`tickflow.times`' rule, as candle imports do; JSON bodies may give them as
    numbers, query strings as text.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        try:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return check_time_ms(epoch_number_ms(value))
            if isinstance(value, str):
                return check_time_ms(parse_time_ms(value))
        except (ValueError, OverflowError) as exc:
            raise ValidationError(str(exc)) from None
        raise ValidationError("expected an ISO-8601 time or an epoch number")


def check_end_after_start(data: dict[str, Any]) -> None:
    """422 at ``end`` when a range would be empty."""
    if data.get("start") is not None and data.get("end") is not None and data["end"] <= data["start"]:
        raise ValidationError("must be after start", "end")


class RangeArgsSchema(Schema):
    """A time range of a query string: ``start`` included, ``end`` excluded, either optional."""

    start = TimeField(metadata={"description": "First time included: ISO-8601 or epoch seconds or ms"})
    end = TimeField(metadata={"description": "Where the range ends (excluded): ISO-8601 or epoch seconds or ms"})

    @validates_schema
    def _end_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_end_after_start(data)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class StrategyListArgsSchema(PageArgsSchema):
    name = fields.String(
        validate=[validate.Length(min=1, max=100), validate.Predicate("isprintable", error="must be printable text")],
        metadata={"description": "Only strategies whose name starts with this"},
    )


class ProbeSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["up", "down"]))
    latency_ms = fields.Float(metadata={"description": "Round trip of the probe, when up"})
    age_s = fields.Float(required=True, metadata={"description": "Seconds since this probe ran"})


class CeleryProbeSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["up", "down"]))
    workers = fields.List(fields.String(), required=True, metadata={"description": "Workers that answered a ping"})
    age_s = fields.Float(required=True, metadata={"description": "Seconds since this probe ran"})


class FeedProbeSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["up", "down"]))
    stale = fields.List(
        fields.String(), required=True, metadata={"description": "Live symbols with no tick for 2 periods"}
    )
    age_s = fields.Float(required=True, metadata={"description": "Seconds since this probe ran"})


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "degraded"]))
    redis = fields.Nested(ProbeSchema, required=True)
    mongodb = fields.Nested(ProbeSchema, required=True)
    celery = fields.Nested(CeleryProbeSchema, required=True)
    feed = fields.Nested(FeedProbeSchema, required=True)


class LivenessSchema(Schema):
    status = fields.String(required=True, validate=validate.Equal("alive"))


DEFAULT_CHART_BARS = 2_000
MAX_CHART_BARS = 20_000


class ChartArgsSchema(RangeArgsSchema):
    max_bars = fields.Integer(
        load_default=DEFAULT_CHART_BARS,
        validate=validate.Range(min=1, max=MAX_CHART_BARS),
        metadata={"description": "At most this many candles; more are merged into coarser ones"},
    )


def _columns(description: str, **names: fields.Field) -> dict[str, fields.Field]:
    return {name: fields.List(field, metadata={"description": description}) for name, field in names.items()}


ChartCandlesSchema = Schema.from_dict(
    {
        "t": fields.List(fields.Integer(), metadata={"description": "Open time of each candle, epoch ms"}),
        **_columns("One value per candle", o=fields.Float(), h=fields.Float(), l=fields.Float(), c=fields.Float()),
        "v": fields.List(fields.Float(), metadata={"description": "Volume, summed over merged bars"}),
    },
    name="ChartCandles",
)


class ChartIndicatorSchema(Schema):
    function = fields.String(required=True, metadata={"description": "TA-Lib function"})
    params = fields.Dict(
        keys=fields.String(), values=fields.Float(), required=True, metadata={"description": "Resolved"}
    )
    pane = fields.String(
        required=True,
        validate=validate.OneOf(["price", "separate"]),
        metadata={"description": "price: over the candles; separate: a pane of its own (TA-Lib's function group)"},
    )
    outputs = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Float(allow_none=True)),
        required=True,
        metadata={"description": "TA-Lib output name -> a value per candle (at its close); null during warm-up"},
    )


ChartMarkersSchema = Schema.from_dict(
    {
        "time": fields.List(fields.Integer(), metadata={"description": "Epoch ms of the fill"}),
        "price": fields.List(fields.Float()),
        "side": fields.List(fields.String(validate=validate.OneOf(["buy", "sell"]))),
        "reason": fields.List(
            fields.String(),
            metadata={"description": "enter_long, enter_short, or an exit reason (signal, stop_loss...)"},
        ),
    },
    name="ChartMarkers",
)


class ChartSchema(Schema):
    symbol = fields.String(required=True)
    timeframe = fields.String(required=True)
    start = fields.Integer(allow_none=True, metadata={"description": "The range asked for, epoch ms (null: none)"})
    end = fields.Integer(allow_none=True, metadata={"description": "The range asked for (excluded), epoch ms"})
    period_ms = fields.Integer(
        required=True, metadata={"description": "Length of each candle: the timeframe, or a multiple once merged"}
    )
    bars = fields.Integer(required=True, metadata={"description": "Bars of the timeframe in the range, before merging"})
    candles = fields.Nested(ChartCandlesSchema, required=True)
    indicators = fields.Dict(keys=fields.String(), values=fields.Nested(ChartIndicatorSchema), required=True)
    markers = fields.Nested(ChartMarkersSchema, required=True, metadata={"description": "Trade entries and exits"})
