"""Orders: explicit values with deterministic client order ids, claimed before they are sent.

A client order id names *why* an order exists -- strategy, symbol, candle time and
action -- so computing the same decision twice (a retried or redelivered task) yields the
same id. ``OrderClaims.claim`` sets it with SET NX before the order goes to the broker:
only the first task to get there sends it; any later one looks the fill up instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import redis

from strategies import client_ids
from strategies.domain import Fill, OrderSide
from tickflow.storage import keys


def client_order_id(strategy_id: str, symbol: str, candle_open_ms: int, action: str) -> str:
    """The order's deterministic id (``strategies.client_ids``: 32 characters a venue accepts, which decode back
    to the strategy, symbol, candle and action); action is ``open``, ``close`` or an exit reason."""
    return client_ids.encode(strategy_id, symbol, int(candle_open_ms), action)


@dataclass(frozen=True)
class OrderRequest:
    """A market order as the engine decided it.

    ``price`` and ``commission`` are what the position state machine expects the fill to
    be (the market price moved by the spec's slippage, and the spec's commission): the
    paper broker fills exactly there, which is what keeps live trading equal to a backtest.
    """

    client_order_id: str
    strategy_id: str
    symbol: str
    side: OrderSide
    size: float
    price: float
    commission: float
    ts: int
    """Candle open time the order belongs to (ms)."""
    reason: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "side": self.side.value})

    @classmethod
    def from_json(cls, raw: str) -> OrderRequest:
        data = json.loads(raw)
        return cls(**{**data, "side": OrderSide(data["side"])})


def fill_to_json(fill: Fill) -> str:
    return json.dumps(fill.to_dict())


def fill_from_json(raw: str) -> Fill:
    data = json.loads(raw)
    return Fill(data["ts"], OrderSide(data["side"]), data["size"], data["price"], data["commission"])


class OrderClaims:
    """SET NX per client order id: who may send an order.

    A claim lives ``ttl_s`` seconds (``LiveSettings.close_retention_s`` of the order's timeframe): past
    the last moment any task may act on the order's close, so no retry finds it gone and sends again.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def claim(self, order: OrderRequest, ttl_s: int) -> bool:
        """True for the one caller that may send ``order``; False when it was claimed before."""
        return self.claim_many([order], [ttl_s])[0]

    def claim_many(self, orders: Sequence[OrderRequest], ttls_s: Sequence[int]) -> list[bool]:
        """``claim`` for many orders (each with its claim's lifetime) in one round trip."""
        if not orders:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for order, ttl_s in zip(orders, ttls_s, strict=True):
            pipe.set(keys.order_claim(order.client_order_id), order.to_json(), nx=True, ex=ttl_s)
        return [bool(done) for done in pipe.execute()]
