"""``GET /api/v1/me``: who the calling token is and what it may do, so a UI can show whose session it is."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from tickflow.storage.tokens import SCOPES

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The calling token")


class MeSchema(Schema):
    name = fields.String(required=True, metadata={"description": "The token's name (tickflow token create --name)"})
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        required=True,
        metadata={"description": "Every scope it holds: admin implies trade, which implies read"},
    )
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "To the minute"})
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "null: valid until revoked"})


@blp.route("")
@blp.response(200, MeSchema)
def me():
    """The calling token's name, scopes and dates (never the token itself)."""
    token = g.token
    return {
        "name": token.name,
        "scopes": list(token.scopes),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }
