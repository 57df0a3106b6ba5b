"""The exchange broker against Binance's public spot testnet: opt in with testnet keys, skipped otherwise.

    TICKFLOW_TESTNET_API_KEY=... TICKFLOW_TESTNET_API_SECRET=... .venv/bin/python -m pytest -m testnet

Keys of their own (never ``TICKFLOW_EXCHANGE_*``), so a test run cannot pick up a live account's keys.
The local venue's tests say what the broker must do; these check that the real venue agrees: its filters,
a MARKET order's FULL answer and fees, a lookup by client id, and balances. Each run spends a few USDT of
testnet money (the smallest order the filters allow, bought then sold).
"""

from __future__ import annotations

import math
import os
import time

import pytest

from strategies.client_ids import encode
from strategies.domain import OrderSide
from tickflow.exchange_client import ccxt_client
from tickflow.settings import ExchangeSettings
from workers.exchange import ExchangeBroker
from workers.orders import OrderRequest, OutcomeKind

KEY, SECRET = os.environ.get("TICKFLOW_TESTNET_API_KEY", ""), os.environ.get("TICKFLOW_TESTNET_API_SECRET", "")
STRATEGY = "65f1c2a9e4b0d3f7a1c2e3d4"

pytestmark = [
    pytest.mark.testnet,
    pytest.mark.skipif(not (KEY and SECRET), reason="TICKFLOW_TESTNET_API_KEY and ..._SECRET not set"),
]


@pytest.fixture
def testnet(redis) -> ExchangeBroker:
    """A broker on Binance's spot testnet (the shared rate limit in the test Redis)."""
    return ExchangeBroker(ExchangeSettings(api_key=KEY, api_secret=SECRET, env="testnet"))


def order(side: OrderSide, size: float, price: float) -> OrderRequest:
    candle = int(time.time() * 1000) // 60_000 * 60_000
    action = "open" if side is OrderSide.BUY else "signal"
    client_id = encode(STRATEGY, "BTCUSDT", candle, action)
    return OrderRequest(client_id, STRATEGY, "BTCUSDT", side, size, price, 0.0, candle, action)


def test_the_testnet_lists_btcusdt_trading_with_the_filters_the_broker_rounds_to(testnet):
    rules = testnet.rules("BTCUSDT")
    assert rules.trading and (rules.base, rules.quote) == ("BTC", "USDT")
    assert rules.market_quantity(1e-12, 60_000)[1]  # far below the minimums: refused before sending


def test_a_smallest_market_buy_fills_is_found_by_its_client_id_and_sells_back(testnet):
    price = float(ccxt_client(testnet.settings, signed=True).fetch_ticker("BTC/USDT")["last"])
    rules = testnet.rules("BTCUSDT")
    size = math.ceil(2 * float(rules.min_notional) / price / float(rules.step)) * float(rules.step)
    bought = testnet.submit(order(OrderSide.BUY, size, price))
    assert bought.kind is OutcomeKind.FILLED and bought.trades and bought.venue_order_id
    assert bought.executed <= bought.gross and bought.commission >= 0
    found = testnet.lookup(bought.client_order_id, "BTCUSDT")
    assert found is not None and (found.venue_order_id, found.gross) == (bought.venue_order_id, bought.gross)
    sold = testnet.submit(order(OrderSide.SELL, bought.executed, price))
    assert sold.kind is OutcomeKind.FILLED
    free, total = testnet.balances()
    assert total["USDT"] >= free["USDT"] > 0
