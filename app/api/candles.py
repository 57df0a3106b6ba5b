"""Placeholder: replaced by its owner."""

from flask_smorest import Blueprint

blp = Blueprint("candles", __name__, url_prefix="/api/v1/candles", description="Historical candles")
