"""The state of the local Binance-speaking venue: symbols and their filters, balances, orders, trades.

Everything here follows Binance spot's rules as its REST API documents them, and nothing
more: a MARKET order fills against the depth set for its symbol and, when that runs out,
ends ``EXPIRED`` with what it executed; the fee is taken from the asset received (or, with
``fee_asset`` set, in that asset, 25 % off, as Binance's "use BNB for fees"); a
``newClientOrderId`` is refused only while another *open* order carries it; filters reject
with -1013, balances with -2010. Orders and balances live in memory, for one server process.
Every method is called under the server's one lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

CLIENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
ZERO = Decimal(0)
INTERVALS = frozenset(
    ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")
)
"""Binance spot's kline intervals; any other is -1120."""


class VenueError(Exception):
    """A refusal as Binance answers it: HTTP status, code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status, self.code, self.msg = status, code, msg


def bad_request(code: int, msg: str) -> VenueError:
    return VenueError(400, code, msg)


def text(value: Decimal) -> str:
    """A decimal as Binance writes them: eight places."""
    return f"{value:.8f}"


@dataclass
class Symbol:
    """One spot market, with the four filters TickFlow checks before sending."""

    symbol: str
    base: str
    quote: str
    step: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    market_step: Decimal = ZERO
    """MARKET_LOT_SIZE's step; 0 (as Binance ships it) leaves the check to LOT_SIZE."""
    market_max_qty: Decimal = Decimal("100")
    tick: Decimal = Decimal("0.01")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    status: str = "TRADING"
    fee: Decimal = Decimal("0.001")
    """Taker fee rate, charged in the asset received."""
    asks: list[list[Decimal]] = field(default_factory=list)
    """[price, quantity] levels a buy takes, best first."""
    bids: list[list[Decimal]] = field(default_factory=list)
    """[price, quantity] levels a sell takes, best first."""

    @property
    def price(self) -> Decimal:
        """The market's price: the best ask, else the best bid, else 0."""
        levels = self.asks or self.bids
        return levels[0][0] if levels else ZERO

    def info(self) -> dict:
        """This symbol as ``exchangeInfo`` lists it."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": text(self.min_price),
                    "maxPrice": text(self.max_price),
                    "tickSize": text(self.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": text(self.min_qty),
                    "maxQty": text(self.max_qty),
                    "stepSize": text(self.step),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": text(ZERO),
                    "maxQty": text(self.market_max_qty),
                    "stepSize": text(self.market_step),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": text(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": text(self.max_notional),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }


@dataclass
class Order:
    symbol: str
    order_id: int
    client_id: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal
    time: int
    status: str = "NEW"
    executed: Decimal = ZERO
    quote: Decimal = ZERO
    update_time: int = 0
    fills: list[dict] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def result(self) -> dict:
        """The order as ``GET /api/v3/order`` and a RESULT answer show it."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_id,
            "price": text(self.price),
            "origQty": text(self.quantity),
            "executedQty": text(self.executed),
            "cummulativeQuoteQty": text(self.quote),
            "status": self.status,
            "timeInForce": "GTC",
            "type": self.type,
            "side": self.side,
            "stopPrice": text(ZERO),
            "icebergQty": text(ZERO),
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": text(ZERO),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


def multiple_of(value: Decimal, step: Decimal, start: Decimal) -> bool:
    return step == 0 or (value - start) % step == 0


BNB_DISCOUNT = Decimal("0.75")
"""What a fee paid in the fee asset costs of the standard one (Binance: 25 % off with BNB)."""


class Book:
    """Symbols, balances, orders and trades of one account on the venue."""

    def __init__(self) -> None:
        self.symbols: dict[str, Symbol] = {}
        self.balances: dict[str, list[Decimal]] = {}
        """asset -> [free, locked]"""
        self.orders: list[Order] = []
        self.trades: list[dict] = []
        self.klines: dict[tuple[str, str], list[list]] = {}
        self.fee_asset: str | None = None
        """The asset fees are paid in when the account holds enough of it (Binance's "use BNB for fees", 25 % off),
        at its price on the ``<asset><quote>`` symbol; else, and by default, the asset received."""
        self._next_order = 1
        self._next_trade = 1

    # -- set up by the control endpoint -------------------------------------------------------

    def set_symbol(self, spec: dict) -> None:
        """Add or change a symbol: ``symbol``, ``base``, ``quote``, any filter field, ``price`` and ``depth``."""
        name = spec["symbol"]
        current = self.symbols.get(name) or Symbol(name, spec["base"], spec["quote"])
        for key, value in spec.items():
            if key in ("symbol", "price", "depth", "asks", "bids"):
                continue
            if not hasattr(current, key):
                raise ValueError(f"unknown symbol field {key!r}")
            setattr(current, key, value if key in ("base", "quote", "status") else Decimal(str(value)))
        if "price" in spec:
            depth = Decimal(str(spec.get("depth", "1000000")))
            price = Decimal(str(spec["price"]))
            current.asks, current.bids = [[price, depth]], [[price, depth]]
        for side in ("asks", "bids"):
            if side in spec:
                setattr(current, side, [[Decimal(str(p)), Decimal(str(q))] for p, q in spec[side]])
        self.symbols[name] = current

    def set_balance(self, asset: str, free: str) -> None:
        self.balances[asset] = [Decimal(str(free)), self.balances.get(asset, [ZERO, ZERO])[1]]

    # -- the API -------------------------------------------------------------------------------

    def symbol(self, name: str | None) -> Symbol:
        if not name:
            raise bad_request(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        found = self.symbols.get(name)
        if found is None:
            raise bad_request(-1121, "Invalid symbol.")
        return found

    def account(self, now: int) -> dict:
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": now,
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": text(free), "locked": text(locked)}
                for asset, (free, locked) in sorted(self.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 1,
        }

    def place(self, params: dict, now: int) -> Order:
        """Check and execute a new order; raises ``VenueError`` with Binance's code when it is refused."""
        market = self.symbol(params.get("symbol"))
        side, kind = params.get("side", ""), params.get("type", "")
        if side not in ("BUY", "SELL"):
            raise bad_request(-1117, "Invalid side.")
        if kind not in ("MARKET", "LIMIT"):
            raise bad_request(-1116, "Invalid orderType.")
        client_id = params.get("newClientOrderId") or f"venue-{self._next_order}"
        if not CLIENT_ID.match(client_id):
            raise bad_request(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
            )
        quantity = _decimal(params, "quantity")
        price = _decimal(params, "price") if kind == "LIMIT" else ZERO
        if market.status != "TRADING":
            raise bad_request(-1013, "Market is closed.")
        if any(o.open and o.symbol == market.symbol and o.client_id == client_id for o in self.orders):
            raise bad_request(-2010, "Duplicate order sent.")
        self._check_filters(market, kind, quantity, price)
        base, quote = self._wallet(market.base), self._wallet(market.quote)
        reference = price if kind == "LIMIT" else market.price
        if (side == "BUY" and quote[0] < quantity * reference) or (side == "SELL" and base[0] < quantity):
            raise bad_request(-2010, "Account has insufficient balance for requested action.")
        order = Order(market.symbol, self._next_order, client_id, side, kind, quantity, price, now)
        self._next_order += 1
        self.orders.append(order)
        self._execute(market, order, now)
        if kind == "LIMIT" and order.open:  # the rest waits on the book, its funds locked
            rest = quantity - order.executed
            wallet, amount = (quote, rest * price) if side == "BUY" else (base, rest)
            wallet[0] -= amount
            wallet[1] += amount
        return order

    def _check_filters(self, market: Symbol, kind: str, quantity: Decimal, price: Decimal) -> None:
        if kind == "LIMIT" and (
            price < market.min_price
            or price > market.max_price
            or not multiple_of(price, market.tick, market.min_price)
        ):
            raise bad_request(-1013, "Filter failure: PRICE_FILTER")
        if (
            quantity < market.min_qty
            or quantity > market.max_qty
            or not multiple_of(quantity, market.step, market.min_qty)
        ):
            raise bad_request(-1013, "Filter failure: LOT_SIZE")
        if kind == "MARKET" and (
            quantity > market.market_max_qty or not multiple_of(quantity, market.market_step, ZERO)
        ):
            raise bad_request(-1013, "Filter failure: MARKET_LOT_SIZE")
        notional = quantity * (price if kind == "LIMIT" else market.price)
        if notional < market.min_notional or (kind == "LIMIT" and notional > market.max_notional):
            raise bad_request(-1013, "Filter failure: NOTIONAL")

    def _fee_in_fee_asset(self, market: Symbol, fee_in_quote: Decimal) -> tuple[Decimal, str] | None:
        """(amount, asset) of a fee worth ``fee_in_quote`` paid in ``fee_asset``, 25 % off; None when it cannot be:
        no fee asset, no ``<asset><quote>`` market to price it, or too little of it on the account."""
        if self.fee_asset is None or self.fee_asset in (market.base, market.quote):
            return None
        pricing = self.symbols.get(f"{self.fee_asset}{market.quote}")
        if pricing is None or pricing.price <= 0:
            return None
        amount = (fee_in_quote * BNB_DISCOUNT / pricing.price).quantize(Decimal("0.00000001"))
        if self._wallet(self.fee_asset)[0] < amount:
            return None
        return amount, self.fee_asset

    def ticker_24hr(self, params: dict, now: int) -> dict:
        """``GET /api/v3/ticker/24hr`` for one symbol, its prices all the market's (the best ask, else bid)."""
        market = self.symbol(params.get("symbol"))
        price = text(market.price)
        prices = ("lastPrice", "bidPrice", "askPrice", "openPrice", "highPrice", "lowPrice", "prevClosePrice")
        return {
            "symbol": market.symbol,
            **dict.fromkeys(prices, price),
            "volume": "0",
            "quoteVolume": "0",
            "openTime": now - 86_400_000,
            "closeTime": now,
            "count": 0,
        }

    def _execute(self, market: Symbol, order: Order, now: int) -> None:
        """Take liquidity level by level; a MARKET order's unfilled rest expires, a LIMIT order's rests."""
        levels = market.asks if order.side == "BUY" else market.bids
        base, quote = self._wallet(market.base), self._wallet(market.quote)
        for level in levels:
            remaining = order.quantity - order.executed
            crosses = order.type == "MARKET" or (
                level[0] <= order.price if order.side == "BUY" else level[0] >= order.price
            )
            if remaining <= 0 or level[1] <= 0 or not crosses:
                break
            qty = min(remaining, level[1])
            level[1] -= qty
            value = qty * level[0]
            paid = self._fee_in_fee_asset(market, value * market.fee)
            if paid is not None:
                commission, asset = paid
                self._wallet(asset)[0] -= commission
                quote[0] += -value if order.side == "BUY" else value
                base[0] += qty if order.side == "BUY" else -qty
            elif order.side == "BUY":
                commission, asset = qty * market.fee, market.base
                quote[0] -= value
                base[0] += qty - commission
            else:
                commission, asset = value * market.fee, market.quote
                base[0] -= qty
                quote[0] += value - commission
            order.executed += qty
            order.quote += value
            trade = {
                "symbol": market.symbol,
                "id": self._next_trade,
                "orderId": order.order_id,
                "orderListId": -1,
                "price": text(level[0]),
                "qty": text(qty),
                "quoteQty": text(value),
                "commission": text(commission),
                "commissionAsset": asset,
                "time": now,
                "isBuyer": order.side == "BUY",
                "isMaker": False,
                "isBestMatch": True,
            }
            self._next_trade += 1
            self.trades.append(trade)
            order.fills.append(
                {
                    "price": trade["price"],
                    "qty": trade["qty"],
                    "commission": trade["commission"],
                    "commissionAsset": asset,
                    "tradeId": trade["id"],
                }
            )
        levels[:] = [level for level in levels if level[1] > 0]
        if order.executed == order.quantity:
            order.status = "FILLED"
        elif order.type == "MARKET":
            order.status = "EXPIRED"
        elif order.executed > 0:
            order.status = "PARTIALLY_FILLED"
        order.update_time = now

    def find(self, params: dict) -> Order:
        """The order named by ``orderId`` or ``origClientOrderId`` (the latest with that id); -2013 if none."""
        market = self.symbol(params.get("symbol"))
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise bad_request(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        for order in reversed(self.orders):
            if order.symbol == market.symbol and (
                str(order.order_id) == order_id if order_id is not None else order.client_id == client_id
            ):
                return order
        raise bad_request(-2013, "Order does not exist.")

    def cancel(self, params: dict, now: int) -> dict:
        try:
            order = self.find(params)
        except VenueError as exc:
            if exc.code == -2013:
                raise bad_request(-2011, "Unknown order sent.") from None
            raise
        if not order.open:
            raise bad_request(-2011, "Unknown order sent.")
        market = self.symbols[order.symbol]
        rest = order.quantity - order.executed
        wallet, amount = (
            (self._wallet(market.quote), rest * order.price)
            if order.side == "BUY"
            else (self._wallet(market.base), rest)
        )
        wallet[0] += amount
        wallet[1] -= amount
        order.status, order.update_time = "CANCELED", now
        return {**order.result(), "origClientOrderId": order.client_id, "transactTime": now}

    def listed(self, params: dict, open_only: bool) -> list[dict]:
        name = params.get("symbol")
        if name is not None or not open_only:
            name = self.symbol(name).symbol
        start, end = _int(params, "startTime", 0), _int(params, "endTime", 1 << 62)
        from_id = _int(params, "orderId", 0)
        found = [
            o.result()
            for o in self.orders
            if (name is None or o.symbol == name)
            and (o.open or not open_only)
            and start <= o.time <= end
            and o.order_id >= from_id
        ]
        if open_only:
            return found
        limit = min(_int(params, "limit", 500), 1000)
        # Binance: from orderId (or startTime) on when given, else the most recent orders
        return found[:limit] if "orderId" in params or "startTime" in params else found[-limit:]

    def my_trades(self, params: dict) -> list[dict]:
        name = self.symbol(params.get("symbol")).symbol
        order_id = params.get("orderId")
        start, end = _int(params, "startTime", 0), _int(params, "endTime", 1 << 62)
        from_id = _int(params, "fromId", 0)
        found = [
            t
            for t in self.trades
            if t["symbol"] == name
            and (order_id is None or str(t["orderId"]) == order_id)
            and start <= t["time"] <= end
            and t["id"] >= from_id
        ]
        return found[: min(_int(params, "limit", 500), 1000)]

    def kline_rows(self, params: dict) -> list[list]:
        """``GET /api/v3/klines`` as Binance pages it: open times within ``startTime..endTime`` (both inclusive),
        at most ``limit`` (500 unless given, 1000 at most) of them."""
        name = self.symbol(params.get("symbol")).symbol
        interval = params.get("interval")
        if not interval:
            raise bad_request(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
        if interval not in INTERVALS:
            raise bad_request(-1120, "Invalid interval.")
        start, end = _int(params, "startTime", -1), _int(params, "endTime", 1 << 62)
        if start > end:
            raise bad_request(-1023, "Start time is greater than end time.")
        limit = min(_int(params, "limit", 500), 1000)
        rows = [row for row in self.klines.get((name, interval), []) if start <= row[0] <= end]
        # Binance: the first ``limit`` from startTime on; without startTime, the most recent up to endTime
        return rows[:limit] if start >= 0 else rows[-limit:]

    def set_klines(self, symbol: str, interval: str, rows: list[list], period_ms: int) -> None:
        """Store candles ``[open ms, open, high, low, close, volume]`` in Binance's 12-field shape."""
        self.klines[(symbol, interval)] = sorted(
            (
                [int(t), str(o), str(h), str(l), str(c), str(v), int(t) + period_ms - 1, "0", 0, "0", "0", "0"]
                for t, o, h, l, c, v in rows
            ),
            key=lambda row: row[0],
        )

    def _wallet(self, asset: str) -> list[Decimal]:
        return self.balances.setdefault(asset, [ZERO, ZERO])


def _decimal(params: dict, name: str) -> Decimal:
    raw = params.get(name)
    try:
        value = Decimal(raw) if raw else None
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise bad_request(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def _int(params: dict, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
        ) from None
