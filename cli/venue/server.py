"""A local HTTP server that speaks Binance spot's signed REST API, as ccxt 4.5 calls it.

Run as its own process (``python -m cli.venue.server --port N --api-key K --api-secret S``),
so that a test which kills a worker cannot take the venue down with it; ``cli.venue.LocalVenue``
starts it and drives it. The API under ``/api/v3/`` answers as Binance does: HMAC-SHA256
signatures (-1022), the ``recvWindow`` check on ``timestamp`` (-1021), API keys (-2014, -2015),
request weights in ``X-MBX-USED-WEIGHT-1M`` and 429 with ``Retry-After`` past the limit.

Under ``/_venue/`` (loopback only, unsigned) a test or the sandbox sets the market up and
injects faults: symbols with their filters, price and depth; balances; candles; the clock's
skew; the weight limit; and what the next order placements do after they are booked (answer
late, drop the connection, answer an error such as 503 or -1007), or instead of being booked; and
``myTrades`` answers that lag the orders' status (the newest trade left out).
``POST /_venue/reset`` starts it afresh; ``GET /_venue/state`` shows the orders, trades,
balances and how many requests each endpoint got.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from cli.venue.book import Book, Order, VenueError, text

WEIGHTS = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/account"): 20,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/openOrders"): 6,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/ticker/24hr"): 2,
}
"""Binance's request weights for the endpoints served (openOrders without a symbol weighs 80)."""
SIGNED = {"/api/v3/account", "/api/v3/order", "/api/v3/openOrders", "/api/v3/allOrders", "/api/v3/myTrades"}
MAX_RECV_WINDOW = 60_000


class Venue:
    """The venue's state behind one lock: the book, the key pair, clock skew, weights and pending faults."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.lock = threading.Lock()
        self.api_key, self.api_secret = api_key, api_secret
        self.reset()

    def reset(self) -> None:
        """A fresh venue: no symbols, balances, orders, faults, skew or spent weight."""
        self.book = Book()
        self.skew_ms = 0
        self.weight_limit = 6000
        self.retry_after_s = 0
        """While above 0, every API request is refused with 429 and this Retry-After (set by control)."""
        self.banned_until = 0.0
        """Until this ``time.monotonic()``, every API request is refused with 429 and a Retry-After counting down
        to it, as Binance bans an IP for a while: a client that waits it out is served again."""
        self.used: dict[int, int] = {}
        self.faults: list[dict] = []
        self.trades_behind = 0
        """While above 0, each ``myTrades`` answer leaves out its newest trade (and counts this down): the trade
        list lagging the order's status, which a client must not take as the order's whole story."""
        self.requests: Counter[str] = Counter()

    def now(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    def weigh(self, method: str, path: str, params: dict) -> int:
        """Count this request's weight in the current minute; the minute's total so far."""
        weight = 80 if path == "/api/v3/openOrders" and "symbol" not in params else WEIGHTS.get((method, path), 1)
        minute = int(time.time() // 60)
        self.used = {minute: self.used.get(minute, 0) + weight}
        return self.used[minute]

    def authenticate(self, headers, raw_query: str, raw_body: str, params: dict) -> None:
        """Binance's checks on a signed request, in its order: key, timestamp window, signature."""
        key = headers.get("X-MBX-APIKEY")
        if not key:
            raise VenueError(401, -2014, "API-key format invalid.")
        if not hmac.compare_digest(key, self.api_key):
            raise VenueError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        try:
            stamp = int(params["timestamp"])
            window = int(params.get("recvWindow", 5000))
        except (KeyError, ValueError):
            raise VenueError(
                400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            ) from None
        if window > MAX_RECV_WINDOW:
            raise VenueError(400, -1131, "recvWindow must be less than 60000.")
        now = self.now()
        if stamp < now - window or stamp > now + 1000:
            raise VenueError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        payload, _, signature = (raw_query + raw_body).rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            raise VenueError(400, -1022, "Signature for this request is not valid.")

    def lagging(self, trades: list[dict]) -> list[dict]:
        """``trades`` as ``myTrades`` answers them: without the newest while ``trades_behind`` lasts."""
        if self.trades_behind <= 0 or not trades:
            return trades
        self.trades_behind -= 1
        return trades[:-1]

    def control(self, path: str, body: dict) -> dict:
        """A ``/_venue/`` request: set the market up, inject faults, or read the state."""
        if path == "/_venue/reset":
            self.reset()
        book = self.book
        if path == "/_venue/symbol":
            book.set_symbol(body)
        elif path == "/_venue/balance":
            for asset, free in body.items():
                book.set_balance(asset, free)
        elif path == "/_venue/klines":
            book.set_klines(body["symbol"], body["interval"], body["rows"], int(body["period_ms"]))
        elif path == "/_venue/clock":
            self.skew_ms = int(body["skew_ms"])
        elif path == "/_venue/limits":
            self.weight_limit = int(body.get("weight", self.weight_limit))
            self.retry_after_s = int(body.get("retry_after_s", self.retry_after_s))
            if "banned_s" in body:
                self.banned_until = time.monotonic() + float(body["banned_s"])
        elif path == "/_venue/faults":
            self.faults.extend(body["faults"])
        elif path == "/_venue/fee_asset":
            book.fee_asset = body["asset"] or None
        elif path == "/_venue/trades_behind":
            self.trades_behind = int(body["answers"])
        elif path not in ("/_venue/state", "/_venue/reset"):
            raise KeyError(path)
        return {
            "orders": [{**o.result(), "fills": o.fills} for o in book.orders],
            "trades": book.trades,
            "balances": {asset: [text(free), text(locked)] for asset, (free, locked) in book.balances.items()},
            "requests": dict(self.requests),
            "faults": self.faults,
        }


def order_answer(order: Order, kind: str, now: int) -> dict:
    """What ``POST /api/v3/order`` answers for ``newOrderRespType`` ACK, RESULT or FULL."""
    ack = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_id,
        "transactTime": now,
    }
    if kind == "ACK":
        return ack
    result = {**order.result(), **ack}
    for field in ("time", "updateTime", "isWorking", "stopPrice", "icebergQty"):
        result.pop(field)
    return result if kind == "RESULT" else {**result, "fills": order.fills}


def handler_for(venue: Venue) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        """Headers and body are two writes: with Nagle's algorithm each answer waited ~40 ms for an ACK."""

        def log_message(self, format: str, *args) -> None:
            """Quiet: a test run sends thousands of requests."""

        def do_GET(self) -> None:
            self.serve("GET")

        def do_POST(self) -> None:
            self.serve("POST")

        def do_DELETE(self) -> None:
            self.serve("DELETE")

        def serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length).decode() if length else ""
            if parts.path.startswith("/_venue/"):
                with venue.lock:
                    try:
                        answer = venue.control(parts.path, json.loads(raw_body) if raw_body else {})
                    except (KeyError, ValueError, TypeError) as exc:
                        return self.reply(400, {"error": f"{type(exc).__name__}: {exc}"})
                return self.reply(200, answer)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            params.update(parse_qsl(raw_body, keep_blank_values=True))
            fault: dict | None = None
            with venue.lock:
                venue.requests[f"{method} {parts.path}"] += 1
                used = venue.weigh(method, parts.path, params)
                headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
                banned_s = venue.banned_until - time.monotonic()
                if venue.retry_after_s or banned_s > 0 or used > venue.weight_limit:
                    retry = venue.retry_after_s or (math.ceil(banned_s) if banned_s > 0 else 60 - int(time.time()) % 60)
                    body = {
                        "code": -1003,
                        "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
                    }
                    return self.reply(429, body, {**headers, "Retry-After": str(retry)})
                try:
                    answer, fault = self.answer(method, parts, raw_body, params)
                    status = 200
                except VenueError as exc:
                    status, answer = exc.status, {"code": exc.code, "msg": exc.msg}
            if fault is not None:
                return self.misbehave(fault, status, answer, headers)
            return self.reply(status, answer, headers)

        def answer(self, method: str, parts, raw_body: str, params: dict) -> tuple[object, dict | None]:
            """The API's answer, and the fault to apply to it (only order placements take faults)."""
            path, book = parts.path, venue.book
            if path in SIGNED:
                venue.authenticate(self.headers, parts.query, raw_body, params)
            if (method, path) == ("POST", "/api/v3/order"):
                fault = venue.faults.pop(0) if venue.faults else None
                if fault is not None and fault.get("before_booking"):
                    return None, fault
                order = book.place(params, venue.now())
                kind = params.get("newOrderRespType") or ("FULL" if order.type in ("MARKET", "LIMIT") else "ACK")
                return order_answer(order, kind, venue.now()), fault
            routes: dict[tuple[str, str], Callable[[], object]] = {
                ("GET", "/api/v3/ping"): dict,
                ("GET", "/api/v3/time"): lambda: {"serverTime": venue.now()},
                ("GET", "/api/v3/exchangeInfo"): lambda: {
                    "timezone": "UTC",
                    "serverTime": venue.now(),
                    "rateLimits": [
                        {
                            "rateLimitType": "REQUEST_WEIGHT",
                            "interval": "MINUTE",
                            "intervalNum": 1,
                            "limit": venue.weight_limit,
                        },
                        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                    ],
                    "exchangeFilters": [],
                    "symbols": [s.info() for s in book.symbols.values()],
                },
                ("GET", "/api/v3/klines"): lambda: book.kline_rows(params),
                ("GET", "/api/v3/account"): lambda: book.account(venue.now()),
                ("GET", "/api/v3/order"): lambda: book.find(params).result(),
                ("DELETE", "/api/v3/order"): lambda: book.cancel(params, venue.now()),
                ("GET", "/api/v3/openOrders"): lambda: book.listed(params, open_only=True),
                ("GET", "/api/v3/allOrders"): lambda: book.listed(params, open_only=False),
                ("GET", "/api/v3/myTrades"): lambda: venue.lagging(book.my_trades(params)),
                ("GET", "/api/v3/ticker/24hr"): lambda: book.ticker_24hr(params, venue.now()),
            }
            route = routes.get((method, path))
            if route is None:
                raise VenueError(404, -1000, f"No endpoint {method} {path}.")
            return route(), None

        def misbehave(self, fault: dict, status: int, answer: object, headers: dict[str, str]) -> None:
            """Apply a fault after the order was booked (or instead of booking it, ``before_booking``)."""
            action = fault.get("action")
            if action == "delay":
                time.sleep(float(fault.get("seconds", 1)))
                return self.reply(status, answer, headers)
            if action == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if action == "error":
                code = fault.get("code")
                body = {"code": code, "msg": fault.get("msg", "Unknown error")} if code is not None else None
                return self.reply(int(fault.get("status", 503)), body, headers)
            return self.reply(500, {"code": -1000, "msg": f"unknown fault {action!r}"}, headers)

        def reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = b"Service Unavailable" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8" if body is not None else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local server speaking Binance spot's REST API (tests, sandbox)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(Venue(args.api_key, args.api_secret)))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
