"""Where orders go: the ``Broker`` interface and the paper broker.

The paper broker is idempotent by client order id: submitting an id it has seen returns
the first fill rather than trading again. Together with the claim in ``orders.OrderClaims``
this is what guarantees one order per decision even when a task dies between sending an
order and recording it. Real venues are not (Binance keeps a client id unique only among
*open* orders): ``workers.exchange`` settles an unknown outcome by lookup, never by sending again.

A broker also reports the net position it holds for each account, from its own records,
so that positions can be reconciled against it (``workers.maintenance``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import redis

from strategies.domain import Fill, OrderSide
from tickflow.storage import keys
from tickflow.storage.scripts import lua_script
from workers.orders import OrderRequest, fill_from_json, fill_to_json


class Broker(Protocol):
    def submit(self, order: OrderRequest) -> Fill:
        """Send ``order`` (or find its earlier fill, if this id was sent before) and return the fill."""

    def lookup(self, client_order_id: str) -> Fill | None:
        """The fill of an order sent before, None if the broker never saw this id."""

    def positions(self, accounts: Sequence[tuple[str, str]]) -> list[float]:
        """The net size the broker holds for each (strategy id, symbol): > 0 long, < 0 short, 0 flat."""


FILL_MANY = lua_script("workers", "fill_many")


def account(strategy_id: str, symbol: str) -> str:
    """A field of ``keys.paper_positions()``."""
    return f"{strategy_id}:{symbol}"


class PaperBroker:
    """Fills every order at once at the price the engine expects, keeping its book in Redis.

    For orders decided at a close that price is the next candle's open -- the first tick
    after the close -- moved by the spec's slippage, with the spec's commission: exactly
    what the backtester charges, so paper trading and backtests agree trade for trade.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._fill_many = client.register_script(FILL_MANY)

    def submit(self, order: OrderRequest) -> Fill:
        return self.submit_many([order])[0]

    def lookup(self, client_order_id: str) -> Fill | None:
        raw = self.redis.hget(keys.paper_fills(), client_order_id)
        return None if raw is None else fill_from_json(raw)

    def submit_many(self, orders: Sequence[OrderRequest]) -> list[Fill]:
        """``submit`` for many orders in one round trip (a close can decide hundreds).

        Each fill and the net position it moves are stored together (``FILL_MANY``), so the
        book never shows one without the other.
        """
        if not orders:
            return []
        args: list[str] = []
        for order in orders:
            fill = Fill(order.ts, order.side, order.size, order.price, order.commission)
            signed = order.size if order.side == OrderSide.BUY else -order.size
            args += [order.client_order_id, fill_to_json(fill), account(order.strategy_id, order.symbol), repr(signed)]
        return [
            fill_from_json(raw) for raw in self._fill_many(keys=[keys.paper_fills(), keys.paper_positions()], args=args)
        ]

    def adopt(self, held: Mapping[tuple[str, str], float]) -> None:
        """Take net positions (strategy id, symbol) -> signed size into a book that has none for them.

        After Redis comes back empty the book is gone with it, while the engine reopens its
        positions from ``trade_logs``: the paper exchange holds what was traded there.
        """
        pipe = self.redis.pipeline(transaction=False)
        for (strategy_id, symbol), size in held.items():
            pipe.hsetnx(keys.paper_positions(), account(strategy_id, symbol), repr(float(size)))
        pipe.execute()

    def positions(self, accounts: Sequence[tuple[str, str]]) -> list[float]:
        """Net positions from the paper book: the sum of each account's fills, buys positive."""
        if not accounts:
            return []
        raw = self.redis.hmget(keys.paper_positions(), [account(sid, symbol) for sid, symbol in accounts])
        return [float(value or 0.0) for value in raw]


def submit_all(broker: Broker, orders: Sequence[OrderRequest]) -> list[Fill]:
    """Submit ``orders`` through ``broker``, all at once where the broker can (``submit_many``)."""
    many = getattr(broker, "submit_many", None)
    return many(orders) if many is not None else [broker.submit(order) for order in orders]


def broker_for(mode: str, client: redis.Redis) -> Broker:
    """The broker a strategy started in ``mode`` trades through (only ``paper`` exists so far)."""
    if mode != "paper":
        raise ValueError(f"unknown trading mode {mode!r}; only 'paper' is supported")
    return PaperBroker(client)
