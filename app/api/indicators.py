"""``GET /api/v1/indicators``: the TA-Lib catalogue as the spec validator knows it, for an indicator picker.

Everything comes from TA-Lib itself (``strategies.talib_catalog``): the functions a spec may
name, their inputs with the price series each reads by default, their parameters with
defaults and the range TA-Lib accepts, their outputs, and where a chart draws them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from strategies.talib_catalog import FUNCTION_NAMES, TALIB_FUNCTIONS, TalibFunction

blp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators", description="The TA-Lib catalogue")


class IndicatorParamSchema(Schema):
    name = fields.String(required=True)
    default = fields.Float(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["integer", "number"]))
    minimum = fields.Float(allow_none=True, required=True, metadata={"description": "null: unbounded"})
    maximum = fields.Float(allow_none=True, required=True, metadata={"description": "null: unbounded"})


class IndicatorInputSchema(Schema):
    name = fields.String(required=True, metadata={"description": "As the spec's inputs name it: real, high, ..."})
    default = fields.String(allow_none=True, required=True, metadata={"description": "The series read by default"})


class IndicatorFunctionSchema(Schema):
    function = fields.String(required=True)
    display_name = fields.String(required=True)
    group = fields.String(required=True, metadata={"description": "TA-Lib's function group"})
    pane = fields.String(required=True, validate=validate.OneOf(["price", "separate"]))
    inputs = fields.List(fields.Nested(IndicatorInputSchema), required=True)
    params = fields.List(fields.Nested(IndicatorParamSchema), required=True)
    outputs = fields.List(fields.String(), required=True, metadata={"description": "Rules read them as name.output"})


@blp.route("")
@blp.response(200, IndicatorFunctionSchema(many=True))
def catalogue():
    """Every TA-Lib function a spec may use, by name."""
    return _catalogue()


@cache
def _catalogue() -> list[dict[str, Any]]:
    return [describe(TALIB_FUNCTIONS[name]) for name in FUNCTION_NAMES]


def describe(function: TalibFunction) -> dict[str, Any]:
    """One function as the catalogue lists it."""
    params = []
    for name, default in function.params.items():
        low, high = function.bounds(name)
        kind = "integer" if function.wants_integer(name) else "number"
        params.append({"name": name, "default": default, "type": kind, "minimum": low, "maximum": high})
    return {
        "function": function.name,
        "display_name": function.display_name,
        "group": function.group,
        "pane": function.pane,
        "inputs": [{"name": name, "default": source} for name, source in function.inputs.items()],
        "params": params,
        "outputs": list(function.outputs),
    }
