"""Where orders go: the ``Broker`` interface and the paper broker.

A broker must be idempotent by client order id, as real exchanges are: submitting an id
it has seen returns the first fill rather than trading again. Together with the claim
in ``orders.OrderClaims`` this is what guarantees one order per decision even when a
task dies between sending an order and recording it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import redis

from strategies.domain import Fill
from tickflow.live.orders import OrderRequest, fill_from_json, fill_to_json
from tickflow.storage import keys


class Broker(Protocol):
    def submit(self, order: OrderRequest) -> Fill:
        """Send ``order`` (or find its earlier fill, if this id was sent before) and return the fill."""

    def lookup(self, client_order_id: str) -> Fill | None:
        """The fill of an order sent before, None if the broker never saw this id."""


class PaperBroker:
    """Fills every order at once at the price the engine expects, keeping its book in Redis.

    For orders decided at a close that price is the next candle's open -- the first tick
    after the close -- moved by the spec's slippage, with the spec's commission: exactly
    what the backtester charges, so paper trading and backtests agree trade for trade.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def submit(self, order: OrderRequest) -> Fill:
        fill = Fill(order.ts, order.side, order.size, order.price, order.commission)
        self.redis.hsetnx(keys.paper_fills(), order.client_order_id, fill_to_json(fill))
        found = self.lookup(order.client_order_id)
        assert found is not None
        return found

    def lookup(self, client_order_id: str) -> Fill | None:
        raw = self.redis.hget(keys.paper_fills(), client_order_id)
        return None if raw is None else fill_from_json(raw)

    def submit_many(self, orders: Sequence[OrderRequest]) -> list[Fill]:
        """``submit`` for many orders in one round trip (a close can decide hundreds)."""
        if not orders:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for order in orders:
            fill = Fill(order.ts, order.side, order.size, order.price, order.commission)
            pipe.hsetnx(keys.paper_fills(), order.client_order_id, fill_to_json(fill))
        pipe.hmget(keys.paper_fills(), [order.client_order_id for order in orders])
        return [fill_from_json(raw) for raw in pipe.execute()[-1]]


def submit_all(broker: Broker, orders: Sequence[OrderRequest]) -> list[Fill]:
    """Submit ``orders`` through ``broker``, all at once where the broker can (``submit_many``)."""
    many = getattr(broker, "submit_many", None)
    return many(orders) if many is not None else [broker.submit(order) for order in orders]


def broker_for(mode: str, client: redis.Redis) -> Broker:
    """The broker a strategy started in ``mode`` trades through (only ``paper`` exists so far)."""
    if mode != "paper":
        raise ValueError(f"unknown trading mode {mode!r}; only 'paper' is supported")
    return PaperBroker(client)
