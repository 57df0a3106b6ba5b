"""Orders on a real venue through ccxt (Binance spot first), reported as what happened.

A venue does not behave like the paper broker, and this module is built on how it does
(issue 14; Binance's spot API documentation):

* an error is not a failure: a timeout, a dropped connection, HTTP 5xx or -1007 leave the
  order's fate unknown (Binance: "execution status unknown"). The outcome is ``UNKNOWN`` and
  only a lookup by client order id settles it; this module never sends an unknown order again;
* a client order id is unique only among *open* orders: a filled MARKET order's id is accepted
  and trades again, so "look it up, else send" is only safe once the venue has answered
  "unknown order" *and* no request for it can still arrive (``workers.venue_orders`` decides);
* a request refused for its timestamp (-1021: our clock off the venue's) never executed: the drift
  is measured again and the order sent once more;
* a MARKET order may end ``EXPIRED`` after a partial fill, and the fee is taken from the asset
  received: ``executed`` is what the account really gained or gave (net of a base-asset fee);
* rejections are classified by Binance's code, which is stable, not by ccxt's exception class
  (ccxt maps some filter failures to ``BadRequest``): the status, code and message come from
  the HTTP answer itself, recorded by a response hook on the client's ``requests`` session;
* quantities are rounded down to the venue's step and checked against its filters before
  anything is sent: a local refusal is ``NOT_SENT`` and the venue sees nothing;
* the venue's rate limit is per IP across every process: each request first takes its weight from the
  budget every process shares in Redis (``workers.venue_limits``), and each answer feeds back the venue's
  count and any ``Retry-After``, so a 429 seen by one process pauses all of them. A request held back is
  never sent: ``submit`` reports it ``NOT_SENT`` with ``retry_after_s``.

One ``ExchangeBroker`` (one ccxt client, synchronous) per worker process. The keys live only
in the ccxt client (built by ``tickflow.exchange_client``): no repr, log line or outcome carries
them, and ccxt's debug log (which prints request headers, the API key among them) is held at INFO
whatever ``LOG_LEVEL`` says.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import ccxt
import requests

from strategies.domain import OrderSide
from tickflow.exchange_client import ccxt_client
from tickflow.settings import ExchangeSettings
from tickflow.storage import connections
from tickflow.storage.active import SETTLE_RETRY_S
from workers.orders import OrderRequest, Outcome, OutcomeKind, VenueTrade
from workers.venue_limits import LimitedSession, RateLimited, VenueLimiter, venue_name

log = logging.getLogger(__name__)

UNKNOWN_CODES = frozenset({-1006, -1007})
"""Binance's "execution status unknown" codes: the order may be on the book."""
CLOCK_SKEW = -1021
"""Binance: the request's timestamp is outside ``recvWindow`` of the venue's clock; refused before executing."""
RULES_TTL_S = 600.0
"""How long a process keeps the venue's filters before loading ``exchangeInfo`` again (weight 20)."""
NOT_TRADING_RETRY_S = 5.0
"""How soon an order for a symbol the venue is not trading is tried again (until its close's deadline)."""
INSUFFICIENT_BALANCE = -2010
"""Binance's code for an order the account's balance cannot carry (and, with ``DUPLICATE``, for a duplicate id)."""
DUPLICATE = "Duplicate order sent."
"""-2010's message when an *open* order already has this client id: the order exists, look it up."""
TERMINAL = frozenset({"FILLED", "EXPIRED", "EXPIRED_IN_MATCH", "CANCELED", "REJECTED"})
FEE_PRICE_TTL_S = 60.0
"""How long a process values fees paid in a third asset (BNB) at the price it last asked the venue for."""


class TradesBehind(ccxt.ExchangeNotAvailable):
    """The venue's trade list does not cover all an order executed yet: look it up again shortly (no side effect)."""


@dataclass(frozen=True)
class VenueRules:
    """A symbol's filters as the venue publishes them (``exchangeInfo``), in exact decimals."""

    base: str
    quote: str
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal | None
    trading: bool

    @classmethod
    def of(cls, info: dict) -> VenueRules:
        filters = {f["filterType"]: f for f in info.get("filters", [])}
        lot, market = filters.get("LOT_SIZE", {}), filters.get("MARKET_LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        apply_min = notional.get("applyMinToMarket", notional.get("applyToMarket", True))
        return cls(
            base=info["baseAsset"],
            quote=info["quoteAsset"],
            step=Decimal(lot.get("stepSize", "0")),
            min_qty=Decimal(lot.get("minQty", "0")),
            max_qty=Decimal(lot.get("maxQty", "0")) or Decimal("Infinity"),
            market_step=Decimal(market.get("stepSize", "0")),
            market_min_qty=Decimal(market.get("minQty", "0")),
            market_max_qty=Decimal(market.get("maxQty", "0")) or Decimal("Infinity"),
            min_notional=Decimal(notional.get("minNotional", "0")) if apply_min else Decimal(0),
            max_notional=Decimal(notional["maxNotional"]) if notional.get("applyMaxToMarket") else None,
            trading=info.get("status") == "TRADING",
        )

    def market_quantity(self, size: float, price: float) -> tuple[Decimal, str]:
        """``size`` rounded down to the steps, and "" if a MARKET order of it passes every filter at ``price``,
        else why not (the venue would answer -1013)."""
        quantity = _floor(Decimal(repr(float(size))), self.step)
        quantity = _floor(quantity, self.market_step)
        notional = quantity * Decimal(repr(float(price)))
        if not self.trading:
            return quantity, "the symbol is not trading"
        if quantity <= 0 or quantity < self.min_qty or quantity < self.market_min_qty:
            return quantity, f"LOT_SIZE: {quantity} is below the minimum {max(self.min_qty, self.market_min_qty)}"
        if quantity > self.max_qty or quantity > self.market_max_qty:
            return quantity, f"LOT_SIZE: {quantity} is above the maximum {min(self.max_qty, self.market_max_qty)}"
        if notional < self.min_notional:
            return quantity, f"NOTIONAL: {notional} is below the minimum {self.min_notional}"
        if self.max_notional is not None and notional > self.max_notional:
            return quantity, f"NOTIONAL: {notional} is above the maximum {self.max_notional}"
        return quantity, ""

    def below_minimums(self, size: float, price: float) -> bool:
        """Whether a MARKET order of ``size`` is too small for the venue (its step, minimum quantity or notional):
        what is left of a close then is dust, never sellable on its own."""
        quantity = _floor(_floor(Decimal(repr(float(size))), self.step), self.market_step)
        notional = quantity * Decimal(repr(float(price)))
        return quantity <= 0 or quantity < max(self.min_qty, self.market_min_qty) or notional < self.min_notional


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return value if step <= 0 else (value / step).to_integral_value(ROUND_DOWN) * step


@dataclass
class _Answer:
    """The last HTTP answer the client got: status, headers and body (the hook's record)."""

    status: int
    headers: dict[str, str]
    body: str

    def error(self) -> tuple[int | None, str]:
        """Binance's ``code`` and ``msg`` in the body, (None, the body's start) when it has none."""
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        if isinstance(data, dict) and "code" in data:
            return int(data["code"]), str(data.get("msg", ""))
        return None, self.body[:200]


class ExchangeBroker:
    """Market orders on one venue account through one synchronous ccxt client."""

    def __init__(self, settings: ExchangeSettings, limiter: VenueLimiter | None = None) -> None:
        """``limiter``: the shared budget to take each request's weight from; by default the venue's own in
        ``REDIS_URL``, waiting at most a quarter of ``recvWindow`` (a signed request's clock runs while it waits)."""
        if not settings.api_key or not settings.api_secret:
            raise ValueError(
                "TICKFLOW_EXCHANGE_API_KEY and TICKFLOW_EXCHANGE_API_SECRET (or ..._SECRET_FILE) are needed to trade"
            )
        self.settings = settings
        self.venue = venue_name(settings)
        self._answer: _Answer | None = None
        self.limiter = limiter or VenueLimiter(
            connections.redis_client(), self.venue, max_wait_s=min(2.0, settings.recv_window_ms / 4000)
        )
        session = LimitedSession(self.limiter)
        session.hooks["response"].append(self._record)
        self._client = ccxt_client(settings, signed=True, session=session)
        self._rules: dict[str, VenueRules] = {}
        self._rules_loaded = 0.0
        self._fee_prices: dict[str, tuple[float, Decimal]] = {}
        self.used_weight: int | None = None
        """The venue's ``X-MBX-USED-WEIGHT-1M`` after the last request: its count of this IP's weight this minute."""

    def __repr__(self) -> str:
        return f"ExchangeBroker({self.settings.exchange}, {self.settings.url or self.settings.env})"

    def _record(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self._answer = _Answer(response.status_code, dict(response.headers), response.text)
        weight = response.headers.get("X-MBX-USED-WEIGHT-1M")
        if weight is not None:
            self.used_weight = int(weight)

    def _fee_price(self, asset: str, quote: str) -> Decimal:
        """The venue's last price of ``asset`` in ``quote``, to value a fee paid in ``asset``; asked at most once every
        ``FEE_PRICE_TTL_S``. An order's outcome must not fail on it: when the venue cannot say, the last price known
        is used, else 0 with a warning (the fee stays in ``Outcome.fees`` as charged)."""
        pair = f"{asset}/{quote}"
        known = self._fee_prices.get(pair)
        if known is not None and time.monotonic() - known[0] < FEE_PRICE_TTL_S:
            return known[1]
        try:
            price = Decimal(str(self._client.fetch_ticker(pair)["last"]))
        except (ccxt.BaseError, KeyError, TypeError, ArithmeticError) as error:
            log.warning("a fee paid in %s is not valued in %s: %s", asset, quote, error)
            return known[1] if known is not None else Decimal(0)
        self._fee_prices[pair] = (time.monotonic(), price)
        return price

    def rules(self, symbol: str) -> VenueRules:
        """The venue's filters for ``symbol`` (``BTCUSDT``), from ``exchangeInfo``, loaded again every
        ``RULES_TTL_S`` (a symbol's status changes: a break, a halt, a delisting)."""
        if not self._rules or time.monotonic() - self._rules_loaded > RULES_TTL_S:
            self._client.load_markets(reload=bool(self._rules))
            self._rules = {market["id"]: VenueRules.of(market["info"]) for market in self._client.markets.values()}
            self._rules_loaded = time.monotonic()
        found = self._rules.get(symbol)
        if found is None:
            raise ValueError(f"{symbol}: not a spot symbol on {self.settings.exchange}")
        return found

    def _unified(self, symbol: str) -> str:
        self.rules(symbol)
        return self._client.markets_by_id[symbol][0]["symbol"]

    def submit(self, order: OrderRequest) -> Outcome:
        """Send ``order`` as a MARKET order under its client id, once; what happened, as far as the answer tells."""
        try:
            rules = self.rules(order.symbol)
        except RateLimited as exc:
            return self._held_back(order, exc)
        except ccxt.BaseError as exc:  # the filters could not be loaded: nothing went, try again shortly
            return self._not_sent_yet(order, f"the venue's filters could not be loaded: {exc}", SETTLE_RETRY_S)
        except ValueError as exc:  # the venue does not list the symbol (any more)
            return Outcome(OutcomeKind.NOT_SENT, order.client_order_id, order.side, reason=str(exc))
        quantity, refusal = rules.market_quantity(order.size, order.price)
        if refusal and not rules.trading:  # a break or a halt on the venue: perhaps over before the close's deadline
            return self._not_sent_yet(order, f"{order.symbol}: {refusal}", NOT_TRADING_RETRY_S)
        if refusal:
            log.warning("order not sent: %s %s (client_order_id=%s)", order.symbol, refusal, order.client_order_id)
            return Outcome(OutcomeKind.NOT_SENT, order.client_order_id, order.side, reason=refusal)
        outcome = self._send(order, quantity, rules)
        if outcome.kind is OutcomeKind.REJECTED and outcome.code == CLOCK_SKEW:
            # Refused before it could execute: our clock drifted from the venue's. Measure the drift again; the
            # retry sends it (one request per attempt keeps ``execute`` inside its time limits).
            with contextlib.suppress(ccxt.BaseError):
                self._client.load_time_difference()
            return self._not_sent_yet(order, f"refused for its timestamp ({outcome.reason})", 0.0)
        return outcome

    def _not_sent_yet(self, order: OrderRequest, reason: str, retry_after_s: float) -> Outcome:
        """Not sent, and worth another try after ``retry_after_s`` (its claim is given up meanwhile)."""
        log.warning("order not sent yet: %s (client_order_id=%s)", reason, order.client_order_id)
        return Outcome(
            OutcomeKind.NOT_SENT, order.client_order_id, order.side, reason=reason, retry_after_s=retry_after_s
        )

    def _send(self, order: OrderRequest, quantity: Decimal, rules: VenueRules) -> Outcome:
        self._answer = None
        try:
            raw = self._client.create_order(
                self._unified(order.symbol),
                "market",
                order.side.value,
                float(quantity),
                None,
                {"newClientOrderId": order.client_order_id, "newOrderRespType": "FULL"},
            )["info"]
        except RateLimited as exc:
            return self._held_back(order, exc)
        except ccxt.BaseError as exc:
            return self._failed(order.client_order_id, order.side, float(quantity), exc, order.symbol)
        return self._outcome(raw, raw.get("fills", []), order.side, rules)

    def _held_back(self, order: OrderRequest, limited: RateLimited) -> Outcome:
        """The shared rate limit kept ``order`` from being sent at all: not sent, with how long to wait."""
        log.warning("order not sent: %s (client_order_id=%s)", limited, order.client_order_id)
        return Outcome(
            OutcomeKind.NOT_SENT,
            order.client_order_id,
            order.side,
            reason=f"rate limited before sending: {limited}",
            retry_after_s=limited.wait_s,
        )

    def lookup(self, client_order_id: str, symbol: str) -> Outcome | None:
        """The order the venue knows by this client id (its latest), None if it knows none.

        Raises ``ccxt.BaseError`` when the venue cannot be asked (a lookup has no side effect: ask again), among
        them ``RateLimited`` (its ``wait_s`` says when) when the shared rate limit holds the lookup back.
        """
        rules = self.rules(symbol)
        unified = self._unified(symbol)
        self._answer = None
        try:
            raw = self._client.fetch_order(None, unified, {"origClientOrderId": client_order_id})["info"]
        except ccxt.BaseError:
            code = None if self._answer is None else self._answer.error()[0]
            if code == -2013:
                return None
            if code == CLOCK_SKEW:  # measure the drift again, so that the caller's next lookup is on time
                with contextlib.suppress(ccxt.BaseError):
                    self._client.load_time_difference()
            raise
        side = OrderSide(raw["side"].lower())
        trades = []
        executed = Decimal(raw["executedQty"])
        if executed > 0:
            trades = [t["info"] for t in self._client.fetch_my_trades(unified, params={"orderId": raw["orderId"]})]
            listed = sum((Decimal(t["qty"]) for t in trades), Decimal(0))
            if listed < executed:  # their fees (a base-asset one changes what is held) are not all known yet
                raise TradesBehind(
                    f"order {client_order_id} executed {executed} but the venue lists trades for {listed} so far"
                )
        return self._outcome(raw, trades, side, rules)

    def _failed(self, client_id: str, side: OrderSide, quantity: float, exc: ccxt.BaseError, symbol: str) -> Outcome:
        """Classify a failed send by its HTTP answer and Binance's code, not by ccxt's exception class."""
        answer = self._answer
        if answer is None:  # no answer at all: timed out or the connection dropped, maybe after booking
            return Outcome(OutcomeKind.UNKNOWN, client_id, side, quantity, reason=f"no answer: {type(exc).__name__}")
        code, message = answer.error()
        if answer.status in (418, 429):
            retry = answer.headers.get("Retry-After")
            return Outcome(
                OutcomeKind.NOT_SENT,
                client_id,
                side,
                code=code,
                reason=f"rate limited ({answer.status}): {message}",
                retry_after_s=float(retry) if retry else 60.0,  # Binance always sends one; a proxy may not
            )
        if answer.status >= 500 or answer.status == 408 or code is None or code in UNKNOWN_CODES:
            # no Binance code (a proxy's page, an answer ccxt could not read) says nothing about the order: look it up
            return Outcome(OutcomeKind.UNKNOWN, client_id, side, quantity, code=code, reason=message)
        if code == INSUFFICIENT_BALANCE and message == DUPLICATE:  # an open order has this id: that one is ours
            unknown = Outcome(OutcomeKind.UNKNOWN, client_id, side, quantity, code=code, reason=message)
            try:
                return self.lookup(client_id, symbol) or unknown
            except ccxt.BaseError:  # the venue (or the shared rate limit) did not let us ask: settle it later
                return unknown
        log.warning("order rejected: code=%s %s (client_order_id=%s)", code, message, client_id)
        return Outcome(OutcomeKind.REJECTED, client_id, side, quantity, code=code, reason=message)

    def _outcome(self, raw: dict, fills: list[dict], side: OrderSide, rules: VenueRules) -> Outcome:
        """An outcome from the venue's order (``POST`` FULL answer or ``GET``) and its fills or trades."""
        gross, quote = Decimal(raw["executedQty"]), Decimal(raw["cummulativeQuoteQty"])
        fees: dict[str, Decimal] = {}
        base_fee, commission = Decimal(0), Decimal(0)
        for fill in fills:
            asset, amount = fill["commissionAsset"], Decimal(fill["commission"])
            fees[asset] = fees.get(asset, Decimal(0)) + amount
            if asset == rules.base:
                base_fee += amount
                commission += amount * Decimal(fill["price"])
            elif asset == rules.quote:
                commission += amount
            else:  # a third asset, such as BNB on an account that pays its fees with it
                commission += amount * self._fee_price(asset, rules.quote)
        status = raw["status"]
        requested = Decimal(raw["origQty"])
        if status == "FILLED":
            kind = OutcomeKind.FILLED
        elif status in TERMINAL:
            kind = OutcomeKind.PARTIAL if status != "REJECTED" else OutcomeKind.REJECTED
        else:
            kind = OutcomeKind.PENDING
        executed = gross - base_fee if side == OrderSide.BUY else gross
        return Outcome(
            kind,
            raw["clientOrderId"],
            side,
            requested=float(requested),
            executed=float(executed),
            gross=float(gross),
            average_price=float(quote / gross) if gross else 0.0,
            quote=float(quote),
            fees=tuple((asset, float(amount)) for asset, amount in sorted(fees.items())),
            commission=float(commission),
            venue_order_id=str(raw["orderId"]),
            venue_status=status,
            trades=tuple(
                VenueTrade(
                    int(f.get("tradeId", f.get("id", 0))),
                    float(f["price"]),
                    float(f["qty"]),
                    float(f["commission"]),
                    f["commissionAsset"],
                )
                for f in fills
            ),
        )

    def free_balances(self) -> dict[str, float]:
        """Free balance per asset on the account (what a live start checks its cash against)."""
        return self.balances()[0]

    def balances(self) -> tuple[dict[str, float], dict[str, float]]:
        """(free, total) balance per asset on the account; total counts what open orders hold too."""
        balance = self._client.fetch_balance()
        return tuple(  # type: ignore[return-value]
            {asset: float(amount or 0.0) for asset, amount in balance[part].items()} for part in ("free", "total")
        )

    def recent_orders(self, symbol: str, since_ms: int) -> list[dict]:
        """The venue's orders on ``symbol`` placed at or after ``since_ms`` (its latest 1,000), as it lists them:
        ``clientOrderId``, ``orderId``, ``status``, ``side``, ``executedQty``, ``time``, ..."""
        orders = self._client.fetch_orders(self._unified(symbol), since=None, limit=1000)
        return [order["info"] for order in orders if int(order["info"]["time"]) >= since_ms]
