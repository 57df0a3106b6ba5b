"""Where orders go: the ``Broker`` interface, the paper broker, and the venue broker of ``live`` mode.

A broker reports what became of each order as an ``orders.Outcome`` -- filled, partly filled,
rejected, not sent, pending or unknown -- with the size, average price and fees executed.

The paper broker fills every order whole and is idempotent by client order id: submitting an
id it has seen returns the first fill rather than trading again. Together with the claim in
``orders.OrderClaims`` this is what guarantees one order per decision even when a task dies
between sending an order and recording it. Real venues are not (Binance keeps a client id
unique only among *open* orders): the engine settles a venue order it may have sent by lookup
(``LiveEngine._place``), never by sending again.

The paper broker also reports the net position it holds for each account, from its own
records, so that paper positions can be reconciled against it (``workers.maintenance``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Protocol

import redis

from strategies.domain import Fill, OrderSide
from tickflow.settings import ExchangeSettings
from tickflow.storage import keys
from tickflow.storage.scripts import lua_script
from workers.exchange import ExchangeBroker
from workers.orders import OrderRequest, Outcome, fill_from_json, fill_to_json


class Broker(Protocol):
    def submit(self, order: OrderRequest) -> Outcome:
        """Send ``order`` and report what became of it."""

    def lookup(self, client_order_id: str, symbol: str) -> Outcome | None:
        """What became of an order sent before, None if the broker knows no order with this id."""


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

    def submit(self, order: OrderRequest) -> Outcome:
        return self.submit_many([order])[0]

    def lookup(self, client_order_id: str, symbol: str = "") -> Outcome | None:
        raw = self.redis.hget(keys.paper_fills(), client_order_id)
        return None if raw is None else Outcome.of_fill(client_order_id, fill_from_json(raw))

    def submit_many(self, orders: Sequence[OrderRequest]) -> list[Outcome]:
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
        stored = self._fill_many(keys=[keys.paper_fills(), keys.paper_positions()], args=args)
        return [Outcome.of_fill(order.client_order_id, fill_from_json(raw)) for order, raw in zip(orders, stored)]

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


_venue_brokers: dict[int, ExchangeBroker] = {}


def venue_broker() -> ExchangeBroker:
    """This process's broker on the venue of ``TICKFLOW_EXCHANGE`` (one ccxt client per process, built on first
    use after the fork). Raises ``ValueError`` naming what is missing when the settings cannot trade."""
    pid = os.getpid()
    if pid not in _venue_brokers:
        _venue_brokers.clear()
        _venue_brokers[pid] = ExchangeBroker(ExchangeSettings.from_env())
    return _venue_brokers[pid]
