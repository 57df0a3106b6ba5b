import pytest
from pymongo.errors import DuplicateKeyError, WriteError

from tickflow.storage.schema import HISTORICAL_CANDLES, STRATEGIES, ensure_schema


def test_ensure_schema_is_idempotent(db):
    ensure_schema(db)
    ensure_schema(db)
    assert "symbol_timeframe_start_unique" in db[HISTORICAL_CANDLES].index_information()


def test_a_strategy_document_without_a_spec_is_rejected_by_the_server(db):
    with pytest.raises(WriteError):
        db[STRATEGIES].insert_one({"name": "x"})


def test_two_candle_buckets_for_the_same_symbol_timeframe_and_start_are_rejected(db):
    bucket = {
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "start": 0,
        "count": 1,
        **dict.fromkeys(("ts", "open", "high", "low", "close", "volume"), b"\x00" * 8),
    }
    db[HISTORICAL_CANDLES].insert_one(dict(bucket))
    with pytest.raises(DuplicateKeyError):
        db[HISTORICAL_CANDLES].insert_one(dict(bucket))


def test_redis_and_mongo_are_real_servers(redis, db):
    assert redis.ping()
    assert db.client.admin.command("hello")["setName"] == "rs0"
