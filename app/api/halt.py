"""The kill switch: ``/live/halt`` and ``/live/resume`` (``tickflow.storage.halt``).

Both need only Redis: the switch lives there, and MongoDB gets a copy when it answers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.halt import MAX_REASON, Halt, current_halt, halt, resume

blp = Blueprint("halt", __name__, url_prefix="/api/v1/live", description="Halting all trading")


class HaltRequestSchema(Schema):
    flatten = fields.Boolean(
        load_default=False, metadata={"description": "Also close every position at its symbol's next tick"}
    )
    reason = fields.String(load_default="", validate=validate.Length(max=MAX_REASON))


class HaltStateSchema(Schema):
    halted = fields.Boolean(required=True)
    since = fields.Integer(allow_none=True, required=True, metadata={"description": "Epoch ms; null when trading"})
    flatten = fields.Boolean(required=True, metadata={"description": "Positions are being closed as symbols tick"})
    by = fields.String(allow_none=True, required=True, metadata={"description": "Who halted: a token's name, or cli"})
    reason = fields.String(allow_none=True, required=True)


def halt_state(state: Halt | None) -> dict[str, Any]:
    if state is None:
        return {"halted": False, "since": None, "flatten": False, "by": None, "reason": None}
    return {"halted": True, **asdict(state)}


@blp.route("/halt")
class HaltSwitch(MethodView):
    @blp.response(200, HaltStateSchema)
    def get(self):
        """Whether trading is halted, since when and by whom."""
        return halt_state(current_halt(redis_client()))

    @blp.arguments(HaltRequestSchema)
    @blp.response(200, HaltStateSchema)
    def post(self, body: dict[str, Any]):
        """Halt all trading: no new entries anywhere; stops, targets and trailing stops keep firing.

        With ``flatten``, every position is also closed at its symbol's next tick. Halting again while
        halted changes nothing, except that ``flatten`` can be added. The halt lasts until resumed, through
        worker restarts, and works with MongoDB down.
        """
        return halt_state(halt(redis_client(), g.token.name, body["flatten"], body["reason"], mongo_db()))


@blp.route("/resume")
class Resume(MethodView):
    @blp.response(200, HaltStateSchema)
    def post(self):
        """Lift the halt: entries are taken again from the next close on (a no-op when not halted)."""
        resume(redis_client(), g.token.name, mongo_db())
        return halt_state(None)
