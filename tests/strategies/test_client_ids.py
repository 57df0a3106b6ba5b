"""Client order ids: at most 36 characters of the venue's alphabet, and they decode back to the decision."""

from __future__ import annotations

import itertools
import re

import pytest

from strategies import client_ids
from strategies.client_ids import ACTIONS, ClientIdError, decode, encode

STRATEGY = "65f1c2a9e4b0d3f7a1c2e3d4"
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "1000SHIBUSDT"]
CANDLE = 1_717_200_000_000


def test_an_id_decodes_back_to_strategy_symbol_candle_and_action():
    for symbol, action in itertools.product(SYMBOLS, ACTIONS):
        decoded = decode(encode(STRATEGY, symbol, CANDLE, action), SYMBOLS)
        assert (decoded.strategy_id, decoded.symbol, decoded.candle_open_ms, decoded.action) == (
            STRATEGY,
            symbol,
            CANDLE,
            action,
        )


def test_every_id_is_32_characters_the_venue_accepts_and_is_recognised_as_ours():
    for candle in (0, CANDLE, (1 << 48) - 1):
        made = encode("ffffffffffffffffffffffff", "BTCUSDT", candle, "trailing_stop")
        assert len(made) == client_ids.LENGTH <= 36
        assert client_ids.VENUE_CLIENT_ID.match(made)
        assert client_ids.is_ours(made)
    assert not client_ids.is_ours("x-TKT5PX2Fabcdefghijklmnopqrstuv")  # ccxt's own ids: a foreign order
    assert not client_ids.is_ours("web_0123456789abcdef")


def test_ids_differ_for_every_action_candle_symbol_and_strategy():
    candles = [CANDLE + i * 60_000 for i in range(200)]
    made = {encode(STRATEGY, symbol, candle, action) for symbol in SYMBOLS for candle in candles for action in ACTIONS}
    assert len(made) == len(SYMBOLS) * len(candles) * len(ACTIONS)
    assert encode(STRATEGY, "BTCUSDT", CANDLE, "open") != encode("65f1c2a9e4b0d3f7a1c2e3d5", "BTCUSDT", CANDLE, "open")


def test_the_same_decision_always_makes_the_same_id():
    assert encode(STRATEGY, "BTCUSDT", CANDLE, "open") == encode(STRATEGY, "BTCUSDT", CANDLE, "open")


@pytest.mark.parametrize(
    ("strategy_id", "symbol", "candle", "action", "message"),
    [
        ("s1", "BTCUSDT", CANDLE, "open", "not a 24-character lowercase hex ObjectId"),
        (STRATEGY.upper(), "BTCUSDT", CANDLE, "open", "not a 24-character lowercase hex ObjectId"),
        (STRATEGY, "", CANDLE, "open", "symbol: empty"),
        (STRATEGY, "BTCUSDT", -1, "open", "outside 0..2^48 ms"),
        (STRATEGY, "BTCUSDT", 1 << 48, "open", "outside 0..2^48 ms"),
        (STRATEGY, "BTCUSDT", 1.5, "open", "not a whole number"),
        (STRATEGY, "BTCUSDT", CANDLE, "buy", "not one of open, close"),
    ],
)
def test_values_an_id_cannot_carry_are_refused_with_the_reason(strategy_id, symbol, candle, action, message):
    with pytest.raises(ClientIdError, match=re.escape(message)):
        encode(strategy_id, symbol, candle, action)


def test_decoding_refuses_foreign_ids_and_symbols_the_strategy_does_not_trade():
    with pytest.raises(ClientIdError, match="not a TickFlow client order id"):
        decode("x-TKT5PX2Fabcdefghijklmnopqrstuv", SYMBOLS)
    made = encode(STRATEGY, "BTCUSDT", CANDLE, "open")
    with pytest.raises(ClientIdError, match="matches none"):
        decode(made, ["ETHUSDT"])
    with pytest.raises(ClientIdError, match="unknown action code"):
        decode(made[:-1] + "Z", SYMBOLS)


def test_two_symbols_sharing_a_code_are_found_before_any_id_is_made():
    client_ids.distinct_symbol_codes(SYMBOLS)
    seen: dict[str, str] = {}
    clash = next(
        (seen[code], name)
        for name in (f"S{i}USDT" for i in itertools.count())
        if (code := client_ids.symbol_code(name)) in seen or seen.setdefault(code, name) is None
    )
    with pytest.raises(ClientIdError, match="share the client id code"):
        client_ids.distinct_symbol_codes(clash)
    with pytest.raises(ClientIdError, match=r"matches .* and "):
        decode(encode(STRATEGY, clash[0], CANDLE, "open"), clash)
