"""Marshmallow schemas for what the API returns and for its query strings.

Request bodies of strategies are not described here: they are strategy
specs, which :func:`strategies.spec.validate_spec` alone defines and checks.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

MAX_PER_PAGE = 100
# Far beyond any real listing, and small enough that (page - 1) * per_page fits MongoDB's 64-bit skip.
MAX_PAGE = 1_000_000


class StrategySchema(Schema):
    id = fields.String(metadata={"description": "ObjectId, as 24 hex digits"})
    name = fields.String()
    spec = fields.Dict(metadata={"description": "The normalised strategy spec"})
    version = fields.Integer(metadata={"description": "1 on creation, +1 on every write; also the ETag"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class StrategyListArgsSchema(PageArgsSchema):
    name = fields.String(
        validate=[validate.Length(min=1, max=100), validate.Predicate("isprintable", error="must be printable text")],
        metadata={"description": "Only strategies whose name starts with this"},
    )


class StrategyPageSchema(Schema):
    items = fields.List(fields.Nested(StrategySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Matching strategies on all pages"})
    pages = fields.Integer()


class ProbeSchema(Schema):
    state = fields.String(validate=validate.OneOf(["up", "down"]))
    latency_ms = fields.Float()


class CeleryProbeSchema(Schema):
    state = fields.String(validate=validate.OneOf(["up", "down"]))
    workers = fields.List(fields.String(), metadata={"description": "Workers that answered a ping"})


class HealthSchema(Schema):
    status = fields.String(validate=validate.OneOf(["ok", "degraded"]))
    redis = fields.Nested(ProbeSchema)
    mongodb = fields.Nested(ProbeSchema)
    celery = fields.Nested(CeleryProbeSchema)
