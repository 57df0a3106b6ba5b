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
from enum import StrEnum

import redis

from strategies import client_ids
from strategies.domain import Fill, OrderSide
from tickflow.storage import keys
from tickflow.storage.scripts import lua_script


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


RETAKE_CLAIM = lua_script("workers", "retake_claim")


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
        self._retake = client.register_script(RETAKE_CLAIM)

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

    def any_claimed(self, strategy_id: str, symbol: str, candle_open_ms: int) -> bool:
        """Whether any order of this strategy, symbol and candle was claimed (and so may be on the venue)."""
        names = [keys.order_claim(client_order_id(strategy_id, symbol, candle_open_ms, a)) for a in client_ids.ACTIONS]
        return bool(self.redis.exists(*names))

    def claimed(self, order: OrderRequest) -> bool:
        """Whether some attempt claimed the order (and so may have sent it)."""
        return bool(self.redis.exists(keys.order_claim(order.client_order_id)))

    def release(self, order: OrderRequest) -> None:
        """Give up the claim of an order that was never sent (the rate limit held it back), so a retry may send it."""
        self.redis.delete(keys.order_claim(order.client_order_id))

    def age_s(self, order: OrderRequest, ttl_s: int) -> float:
        """How long ago ``order`` was claimed (with lifetime ``ttl_s``); ``ttl_s`` when the claim is gone."""
        remaining_ms = self.redis.pttl(keys.order_claim(order.client_order_id))
        return ttl_s - max(remaining_ms, 0) / 1000

    def retake(self, order: OrderRequest, ttl_s: int, age_s: float) -> bool:
        """Claim ``order`` again, for a new lifetime, if its claim is still at least ``age_s`` old: True for the one
        caller that may now send it (a venue order that was never booked, long enough after the last claim)."""
        remaining_ms = int((ttl_s - age_s) * 1000)
        return bool(
            self._retake(keys=[keys.order_claim(order.client_order_id)], args=[remaining_ms, order.to_json(), ttl_s])
        )


class OutcomeKind(StrEnum):
    FILLED = "filled"
    PARTIAL = "partial"
    """Ended (``EXPIRED``, ``CANCELED``) with less than was asked, possibly nothing."""
    REJECTED = "rejected"
    """Refused by the venue, with its code: final, never retried."""
    NOT_SENT = "not_sent"
    """The venue has not got it: refused locally (filters), rate limited, or known to be safely absent."""
    PENDING = "pending"
    """On the venue's book, not done yet."""
    UNKNOWN = "unknown"
    """May or may not be on the venue: look it up by client id (``resolve``), never send it again."""


@dataclass(frozen=True)
class VenueTrade:
    """One of a venue order's fills, keyed by the venue's trade id (unique per symbol)."""

    trade_id: int
    price: float
    quantity: float
    fee: float
    fee_asset: str


@dataclass(frozen=True)
class Outcome:
    """What became of one order, as the venue reports it."""

    kind: OutcomeKind
    client_order_id: str
    side: OrderSide
    requested: float = 0.0
    """The quantity sent, after rounding to the venue's step."""
    executed: float = 0.0
    """Base units the account gained (buy, net of a base-asset fee) or gave (sell): what a position holds."""
    gross: float = 0.0
    """Base units traded (``executedQty``)."""
    average_price: float = 0.0
    quote: float = 0.0
    """Quote units traded (``cummulativeQuoteQty``)."""
    fees: tuple[tuple[str, float], ...] = ()
    """(asset, amount) per fee asset, as the venue charged them."""
    commission: float = 0.0
    """The fees in quote units: a base-asset fee at its trade's price, a third asset's (BNB) at the venue's price."""
    code: int | None = None
    """Binance's error code of a rejection (or of the answer that left the outcome unknown)."""
    reason: str = ""
    venue_order_id: str = ""
    venue_status: str = ""
    trades: tuple[VenueTrade, ...] = ()
    retry_after_s: float | None = None
    """Set when the venue rate-limited the request (429/418): no request may go before this many seconds."""

    @classmethod
    def of_fill(cls, client_order_id: str, fill: Fill) -> Outcome:
        """A whole fill (the paper broker's): everything asked was executed at ``fill.price``."""
        return cls(
            OutcomeKind.FILLED,
            client_order_id,
            fill.side,
            requested=fill.size,
            executed=fill.size,
            gross=fill.size,
            average_price=fill.price,
            quote=fill.size * fill.price,
            commission=fill.commission,
            venue_status="FILLED",
        )

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to this order on the venue."""
        return self.kind in (OutcomeKind.FILLED, OutcomeKind.PARTIAL, OutcomeKind.REJECTED, OutcomeKind.NOT_SENT)

    def fill(self, ts: int) -> Fill | None:
        """The engine's ``Fill`` for what was executed at the candle ``ts``; None when nothing was."""
        if self.executed <= 0:
            return None
        return Fill(ts, self.side, self.executed, self.average_price, self.commission)
