"""The Binance feed against a local exchange: parsing, reconnects, gaps and bad messages."""

import asyncio
import json
import logging

import pytest

from cli.localservices import free_port
from strategies.domain import Tick
from tests.workers.feeds.conftest import FakeExchange, take, trade
from workers.feeds import Backoff, BinanceFeed
from workers.feeds.binance import BadMessage, parse_trade, stream_url

TS = 1_700_000_000_000


def quick_backoff() -> Backoff:
    return Backoff(initial=0.01, maximum=0.05)


def test_a_trade_parses_from_a_combined_stream_envelope_or_raw():
    combined = trade("BTCUSDT", 42, price=37_000.1, qty=0.0012, ts=TS)
    raw = trade("BTCUSDT", 42, price=37_000.1, qty=0.0012, ts=TS, combined=False)

    assert parse_trade(combined) == parse_trade(raw) == (Tick("BTCUSDT", TS, 37_000.1, 0.0012), 42)


def test_other_events_are_not_trades_and_malformed_trades_are_bad_messages():
    assert parse_trade(json.dumps({"result": None, "id": 1})) is None  # a subscription reply
    assert parse_trade(json.dumps({"e": "aggTrade", "s": "BTCUSDT"})) is None
    bad = [
        "not json",
        "[1, 2]",
        trade("BTCUSDT", 1).replace('"p": "100.00"', '"p": "abc"'),
        json.dumps({"e": "trade", "s": "BTCUSDT", "t": 1, "p": "1", "q": "1"}),  # no trade time
        json.dumps({"e": "trade", "s": "BTCUSDT", "t": "1", "p": "1", "q": "1", "T": TS}),  # id as a string
        json.dumps({"e": "trade", "s": "BTCUSDT", "t": 1, "p": "-5", "q": "1", "T": TS}),
    ]
    for message in bad:
        with pytest.raises(BadMessage):
            parse_trade(message)


def test_the_feed_subscribes_to_the_trade_streams_of_its_symbols_in_the_url():
    assert (
        stream_url("wss://stream.binance.com:9443/", ["BTCUSDT", "ETHUSDT"])
        == "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade"
    )


def test_trades_of_several_symbols_arrive_as_ticks_in_order():
    messages = [
        trade("BTCUSDT", 1, 37_000, ts=TS),
        trade("ETHUSDT", 7, 2_000, ts=TS + 1),
        trade("BTCUSDT", 2, 37_001, ts=TS + 2),
    ]

    async def scenario():
        async with FakeExchange([messages]) as exchange:
            ticks = await take(BinanceFeed(["btcusdt", "ETHUSDT"], url=exchange.url), 3)
        return ticks, exchange.paths

    ticks, paths = asyncio.run(scenario())

    assert paths == ["/stream?streams=btcusdt@trade/ethusdt@trade"]
    assert [(tick.symbol, tick.ts, tick.price) for tick in ticks] == [
        ("BTCUSDT", TS, 37_000),
        ("ETHUSDT", TS + 1, 2_000),
        ("BTCUSDT", TS + 2, 37_001),
    ]


def test_the_feed_reconnects_and_resubscribes_after_the_server_drops_the_connection(caplog):
    first = [trade("BTCUSDT", i, ts=TS + i) for i in (1, 2, 3)]
    second = [trade("BTCUSDT", i, ts=TS + i) for i in (4, 5, 6)]

    async def scenario():
        async with FakeExchange([first, first[-1:], second]) as exchange:  # dropped twice
            feed = BinanceFeed(["BTCUSDT"], url=exchange.url, backoff=quick_backoff())
            ticks = await take(feed, 6)
        return ticks, exchange.paths, feed.stats

    with caplog.at_level(logging.INFO, logger="workers.feeds.binance"):
        ticks, paths, stats = asyncio.run(scenario())

    assert [tick.ts - TS for tick in ticks] == [1, 2, 3, 4, 5, 6]  # trade 3, sent again, counted once
    assert len(paths) == 3 and len(set(paths)) == 1
    assert stats.reconnects == 2 and stats.duplicate_trades == 1 and stats.missed_trades == 0
    assert sum("connection to" in record.message and "lost" in record.message for record in caplog.records) == 2
    assert any("stream resumed after" in record.message for record in caplog.records)


def test_a_jump_in_trade_ids_is_logged_as_missed_trades_per_symbol(caplog):
    messages = [
        trade("BTCUSDT", 1),
        trade("ETHUSDT", 50),
        trade("BTCUSDT", 2),
        trade("BTCUSDT", 5),
        trade("ETHUSDT", 51),
        trade("ETHUSDT", 60),
    ]

    async def scenario():
        async with FakeExchange([messages]) as exchange:
            feed = BinanceFeed(["BTCUSDT", "ETHUSDT"], url=exchange.url)
            await take(feed, 6)
        return feed.stats

    with caplog.at_level(logging.WARNING, logger="workers.feeds.binance"):
        stats = asyncio.run(scenario())

    gaps = [record.message for record in caplog.records if "missed" in record.message]
    assert gaps == ["BTCUSDT: 2 trades missed (trade ids 3 to 4)", "ETHUSDT: 8 trades missed (trade ids 52 to 59)"]
    assert stats.missed_trades == 10


def test_bad_messages_are_skipped_and_counted():
    messages = [
        "not json",
        json.dumps({"result": None, "id": 1}),
        "[]",
        trade("BTCUSDT", 1).replace('"q": "0.50000"', '"q": "lots"'),
        trade("BTCUSDT", 2),
    ]

    async def scenario():
        async with FakeExchange([messages]) as exchange:
            feed = BinanceFeed(["BTCUSDT"], url=exchange.url)
            ticks = await take(feed, 1)
        return ticks, feed.stats

    ticks, stats = asyncio.run(scenario())

    assert [tick.qty for tick in ticks] == [0.5]
    assert stats.messages == 5 and stats.bad_messages == 3 and stats.trades == 1


def test_an_exchange_that_is_down_is_retried_with_backoff_until_it_answers(caplog):
    async def scenario():
        feed = BinanceFeed(["BTCUSDT"], url=f"ws://127.0.0.1:{free_port()}", backoff=quick_backoff(), open_timeout_s=1)
        with pytest.raises(TimeoutError):
            await take(feed, 1, timeout_s=0.5)
        return feed.stats

    with caplog.at_level(logging.WARNING, logger="workers.feeds.binance"):
        stats = asyncio.run(scenario())

    assert stats.reconnects >= 3
    assert "reconnecting in" in caplog.records[0].message
