"""Collections, their indexes and server-side validators, applied at start-up.

``ensure_schema`` is idempotent: the API, the workers and the CLI all call it
when they start, and a second call changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import CollectionInvalid

from strategies.candles import SYMBOL_PATTERN, TIMEFRAME_MS
from tickflow.storage.connections import mongo_db

STRATEGIES = "strategies"
HISTORICAL_CANDLES = "historical_candles"
TRADE_LOGS = "trade_logs"
BACKTEST_RESULTS = "backtest_results"
API_TOKENS = "api_tokens"
BACKTEST_ARRAYS = "backtest_arrays"
SWEEPS = "sweeps"
SWEEP_CHUNKS = "sweep_chunks"
SWEEP_RESULTS = "sweep_results"
EQUITY_HISTORY = "equity_history"
CONTROLS = "controls"
"""Platform-wide switches kept beside their Redis copy, one document each (``_id``: ``halt``)."""
AUDIT = "audit"
ORDERS = "orders"
"""The order ledger of live venue orders, one document per client order id (``tickflow.storage.order_ledger``)."""
CANDLE_DOWNLOADS = "candle_downloads"
"""History downloads run as jobs (``tickflow.storage.downloads``)."""
ORDER_FILLS = "order_fills"
"""The venue's fills of those orders, one document per venue, symbol and trade id."""

INDEXES: dict[str, list[IndexModel]] = {
    STRATEGIES: [
        IndexModel([("name", ASCENDING)], unique=True, name="name_unique"),
        IndexModel([("updated_at", DESCENDING)], name="updated_at"),
    ],
    # One document per (symbol, timeframe, bucket); a candle's timestamp is
    # unique inside its bucket by construction, so this index makes every
    # candle unique per symbol, timeframe and timestamp.
    HISTORICAL_CANDLES: [
        IndexModel(
            [("symbol", ASCENDING), ("timeframe", ASCENDING), ("start", ASCENDING)],
            unique=True,
            name="symbol_timeframe_start_unique",
        ),
        # Each bucket's extent, so that ranges, counts and paging are answered
        # from the index alone, without reading any bucket's columns.
        IndexModel(
            [
                ("symbol", ASCENDING),
                ("timeframe", ASCENDING),
                ("start", ASCENDING),
                ("first_ts", ASCENDING),
                ("last_ts", ASCENDING),
                ("count", ASCENDING),
            ],
            name="symbol_timeframe_start_extent",
        ),
    ],
    TRADE_LOGS: [
        IndexModel([("trade_id", ASCENDING)], unique=True, name="trade_id_unique"),
        IndexModel([("strategy_id", ASCENDING), ("opened_at", DESCENDING)], name="strategy_opened"),
        IndexModel([("symbol", ASCENDING), ("opened_at", DESCENDING)], name="symbol_opened"),
    ],
    # One document per strategy and UTC day (tickflow.storage.equity_history).
    EQUITY_HISTORY: [IndexModel([("strategy_id", ASCENDING), ("day", ASCENDING)], name="strategy_day")],
    BACKTEST_RESULTS: [
        IndexModel([("strategy_id", ASCENDING), ("created_at", DESCENDING)], name="strategy_created"),
        IndexModel([("state", ASCENDING), ("created_at", DESCENDING)], name="state_created"),
        IndexModel([("symbol", ASCENDING), ("created_at", DESCENDING)], name="symbol_created"),
    ],
    # Large result arrays (equity curve, trade columns) in parts of at most 4 MB, per run attempt.
    BACKTEST_ARRAYS: [
        IndexModel(
            [("owner", ASCENDING), ("attempt", ASCENDING), ("name", ASCENDING), ("first", ASCENDING)],
            unique=True,
            name="owner_attempt_name_first_unique",
        ),
    ],
    SWEEPS: [
        IndexModel([("strategy_id", ASCENDING), ("created_at", DESCENDING)], name="strategy_created"),
        IndexModel([("state", ASCENDING), ("created_at", DESCENDING)], name="state_created"),
    ],
    SWEEP_CHUNKS: [
        IndexModel([("sweep_id", ASCENDING), ("index", ASCENDING)], unique=True, name="sweep_index_unique"),
        IndexModel([("sweep_id", ASCENDING), ("state", ASCENDING)], name="sweep_state"),
    ],
    # One document per parameter set; the ranking is an index scan on score.
    SWEEP_RESULTS: [
        IndexModel([("sweep_id", ASCENDING), ("combo", ASCENDING)], unique=True, name="sweep_combo_unique"),
        IndexModel([("sweep_id", ASCENDING), ("score", DESCENDING), ("combo", ASCENDING)], name="sweep_rank"),
    ],
    API_TOKENS: [
        IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
        IndexModel([("name", ASCENDING)], unique=True, name="name_unique"),
    ],
    # Who wrote what, newest first (tickflow.storage.audit); by token too.
    AUDIT: [
        IndexModel([("at", DESCENDING)], name="at"),
        IndexModel([("token", ASCENDING), ("at", DESCENDING)], name="token_at"),
    ],
    ORDERS: [
        IndexModel([("venue", ASCENDING), ("state", ASCENDING)], name="venue_state"),
        IndexModel([("venue", ASCENDING), ("updated_at", DESCENDING)], name="venue_updated"),
        IndexModel([("strategy_id", ASCENDING), ("candle_at", DESCENDING)], name="strategy_candle"),
        IndexModel([("candle_at", DESCENDING)], name="candle_at"),
    ],
    ORDER_FILLS: [IndexModel([("client_order_id", ASCENDING)], name="client_order_id")],
    # One queued or running download per series (tickflow.storage.downloads).
    CANDLE_DOWNLOADS: [
        IndexModel(
            [("symbol", ASCENDING), ("timeframe", ASCENDING)],
            unique=True,
            partialFilterExpression={"active": True},
            name="one_active_per_series",
        ),
        IndexModel([("created_at", DESCENDING)], name="created_at"),
    ],
}

VALIDATORS: dict[str, dict] = {
    STRATEGIES: {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["name", "spec", "version", "created_at", "updated_at"],
            "properties": {
                "name": {"bsonType": "string", "minLength": 1},
                "spec": {"bsonType": "object"},
                "version": {"bsonType": ["int", "long"], "minimum": 1},
                "created_at": {"bsonType": "date"},
                "updated_at": {"bsonType": "date"},
            },
        }
    },
    HISTORICAL_CANDLES: {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["symbol", "timeframe", "start", "count", "ts", "open", "high", "low", "close", "volume"],
            "properties": {
                "symbol": {"bsonType": "string", "pattern": f"^{SYMBOL_PATTERN.pattern}$"},
                "timeframe": {"enum": list(TIMEFRAME_MS)},
                "start": {"bsonType": ["int", "long"]},
                "count": {"bsonType": ["int", "long"], "minimum": 1},
                "first_ts": {"bsonType": ["int", "long"]},
                "last_ts": {"bsonType": ["int", "long"]},
                "version": {"bsonType": ["int", "long"], "minimum": 1},
                **{column: {"bsonType": "binData"} for column in ("ts", "open", "high", "low", "close", "volume")},
            },
        }
    },
    BACKTEST_RESULTS: {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["strategy_id", "spec", "symbol", "timeframe", "cash", "state", "attempts", "created_at"],
            "properties": {
                "state": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
                "attempts": {"bsonType": ["int", "long"], "minimum": 0},
                "spec": {"bsonType": "object"},
                "cash": {"bsonType": "double", "exclusiveMinimum": True, "minimum": 0},
            },
        }
    },
    SWEEPS: {
        "$jsonSchema": {
            "bsonType": "object",
            "required": [
                "strategy_id",
                "spec",
                "symbol",
                "timeframe",
                "cash",
                "state",
                "space",
                "objective",
                "combos",
                "chunks_total",
                "created_at",
            ],
            "properties": {
                "state": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
                "space": {"bsonType": "object"},
                "combos": {"bsonType": ["int", "long"], "minimum": 1},
            },
        }
    },
    API_TOKENS: {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["name", "token_hash", "created_at"],
            "properties": {
                "name": {"bsonType": "string", "minLength": 1},
                "token_hash": {"bsonType": "string", "minLength": 64, "maxLength": 64},
                "hash_scheme": {"enum": ["hmac-sha256"]},
                "scopes": {"bsonType": "array", "items": {"enum": ["read", "trade", "admin"]}},
                "expires_at": {"bsonType": "date"},
            },
        }
    },
}


def ensure_schema(db: Database) -> None:
    """Create collections with their validators and indexes (idempotent)."""
    existing = set(db.list_collection_names())
    for name, indexes in INDEXES.items():
        validator = VALIDATORS.get(name)
        if name not in existing:
            try:
                db.create_collection(name, **({"validator": validator} if validator else {}))
            except CollectionInvalid:  # created concurrently by another process
                pass
        elif validator:
            db.command("collMod", name, validator=validator)
        db[name].create_indexes(indexes)


def ready_db() -> Database:
    """The platform's database with its schema in place: what a command or process starts with."""
    db = mongo_db()
    ensure_schema(db)
    return db


def mongo_now() -> datetime:
    """Now, truncated to the milliseconds MongoDB keeps, so a document read back equals the one written."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
