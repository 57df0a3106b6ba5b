"""``GET /api/v1/audit``: the audit trail, who wrote what and when (``admin`` scope; ``app.audit_trail``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from app.schemas import PageArgsSchema, RangeArgsSchema, page_of, page_schema
from tickflow.storage.audit import AuditRepository
from tickflow.storage.connections import mongo_db

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who wrote what, when (admin scope)")


class AuditArgsSchema(RangeArgsSchema, PageArgsSchema):
    token = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Only this token's"})


class AuditEntrySchema(Schema):
    at = fields.DateTime(required=True, metadata={"description": "When the API answered, to the millisecond"})
    token = fields.String(required=True, metadata={"description": "The name of the token that made the request"})
    token_id = fields.String(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "The HTTP status answered"})
    target_id = fields.String(
        allow_none=True, metadata={"description": "The ids in the path (candles: symbol/timeframe), or the id made"}
    )
    address = fields.String(allow_none=True, metadata={"description": "The client's address as the API saw it"})


@blp.route("")
class AuditTrail(MethodView):
    @blp.arguments(AuditArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, page_schema(AuditEntrySchema, "AuditPage"))
    def get(self, args: dict[str, Any]):
        """Every write made with a token (refused ones too), newest first; ``start`` and ``end`` bound ``at``."""
        items, total = AuditRepository(mongo_db()).find(
            token=args.get("token"), start_ms=args.get("start"), end_ms=args.get("end"),
            page=args["page"], per_page=args["per_page"],
        )  # fmt: skip
        return page_of(items, args["page"], args["per_page"], total)
