"""One request-weight budget per venue, shared through Redis by every process that calls the venue.

Binance counts request weight per IP over each calendar minute (6,000 on spot), across every
process behind that IP: workers, beat, a history download, the API checking a live start. Past the
limit it answers 429 with ``Retry-After``, and a client that keeps sending is banned (418, from two
minutes to three days). A per-process limiter (ccxt's) cannot see the others, so this one keeps the
count in Redis, by the Redis server's clock, and every process takes its weight from it before each
request (``VenueLimiter.acquire``):

* each endpoint costs its weight (``request_weight``), counted before the request goes;
* requests run freely up to ``slow_from`` of the limit (80 %); past it the rest of the budget is
  spread over the minute, and nothing goes past ``stop_at`` (95 %): the headroom covers what the
  shared count cannot see at once (requests in flight, the venue's clock at a minute's edge);
* the venue's own count (``X-MBX-USED-WEIGHT-1M``) is fed back after every answer
  (``VenueLimiter.observe``) and the shared count rises to it: the venue also counts what other
  software on the same IP spent;
* a ``Retry-After`` (429 or 418) pauses every process: no request acquired after it is recorded
  goes before it ends.

``acquire`` waits only briefly (``max_wait_s``, 2 s by default): an ``execute`` task must stay well
below the 30 s visibility timeout, and an order not sent before its candle's deadline is not sent at
all, so a longer wait is not slept through but raised as ``RateLimited(wait_s)``: the caller reports
the order ``not_sent`` with ``retry_after_s`` and decides whether its deadline allows another try.

Without Redis there is no shared count, and nothing is sent uncounted: ``acquire`` raises
``RateLimited`` (fails closed). ``observe`` only logs: the venue's answer has already arrived, and a
send's outcome must not be lost because its feedback could not be stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import ccxt
import redis
import requests

from tickflow.settings import ExchangeSettings
from tickflow.storage import connections, keys
from tickflow.storage.scripts import lua_script

log = logging.getLogger(__name__)

ACQUIRE = lua_script("workers", "venue_acquire")
OBSERVE = lua_script("workers", "venue_observe")

BINANCE_SPOT_WEIGHTS: dict[tuple[str, str], int] = {
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
"""Binance spot's request weight (IP) per endpoint, from its REST API documentation (ccxt's table agrees)."""
OPEN_ORDERS_ALL_SYMBOLS = 80
"""``GET /api/v3/openOrders`` without a ``symbol`` asks about every symbol and weighs 80."""
UNLISTED_WEIGHT = 20
"""An endpoint missing from the table is charged as a heavy one: a wrong guess slows down, never gets banned."""

_REASONS = {
    1: "the venue asked every process to wait (Retry-After)",
    2: "this minute's budget is spent",
    3: "slowing down near the venue's limit",
}
UNREACHABLE_WAIT_S = 1.0
"""How long a caller is told to wait when Redis, and so the shared count, cannot be reached."""


def request_weight(method: str, path: str, query: Mapping[str, str]) -> int:
    """The weight Binance spot charges for one request: ``path`` from ``/api/`` on (a gateway's prefix is
    ignored), ``query`` its parameters (only ``symbol`` matters, to ``openOrders``)."""
    method, path = method.upper(), path[path.find("/api/") :] if "/api/" in path else path
    if (method, path) == ("GET", "/api/v3/openOrders") and "symbol" not in query:
        return OPEN_ORDERS_ALL_SYMBOLS
    return BINANCE_SPOT_WEIGHTS.get((method, path), UNLISTED_WEIGHT)


class RateLimited(ccxt.RateLimitExceeded):
    """No request was sent: the shared budget, or a venue's ``Retry-After``, says to wait ``wait_s`` more.

    A ccxt error, so a caller that treats "the venue cannot be asked now" as ``ccxt.BaseError`` (a lookup)
    handles it unchanged; a caller that must know nothing went (a send) catches it first.
    """

    def __init__(self, wait_s: float, reason: str) -> None:
        super().__init__(f"{reason}: wait {wait_s:.3f} s")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Usage:
    """One venue's limit as every process sees it now (for operators, status pages and tests)."""

    used: int
    """Request weight counted this minute: ours, or the venue's if it said more."""
    budget: int
    """The most this minute may hold (``stop_at`` of the venue's limit)."""
    paused_s: float
    """How long every request still waits for the venue's ``Retry-After`` (0: none)."""


class VenueLimiter:
    """The shared weight budget of one venue's IP limit, in Redis (``keys.venue_limits``)."""

    def __init__(
        self,
        client: redis.Redis,
        venue: str,
        limit: int = 6000,
        slow_from: float = 0.8,
        stop_at: float = 0.95,
        max_wait_s: float = 2.0,
    ) -> None:
        if not 0 < slow_from <= stop_at <= 1:
            raise ValueError(f"need 0 < slow_from <= stop_at <= 1, got {slow_from} and {stop_at}")
        self.venue = venue
        self.key = keys.venue_limits(venue)
        self.limit = limit
        self.slow_from = int(limit * slow_from)
        self.budget = int(limit * stop_at)
        self.max_wait_s = max_wait_s
        self._client = client
        self._acquire = client.register_script(ACQUIRE)
        self._observe = client.register_script(OBSERVE)

    def __repr__(self) -> str:
        return f"VenueLimiter({self.venue}, {self.budget}/{self.limit} a minute)"

    def acquire(self, weight: int) -> None:
        """Count ``weight`` against this minute before a request goes; waits at most ``max_wait_s`` for room.

        Raises ``RateLimited`` with the time still to wait when the venue's pause or the next minute is further
        off than that: a task with a deadline must not sleep through it (see the module's docstring).
        """
        if weight > self.budget:
            raise ValueError(f"a request of weight {weight} can never fit a budget of {self.budget} a minute")
        deadline = time.monotonic() + self.max_wait_s
        while True:
            try:
                state, wait_ms, _ = self._acquire(keys=[self.key], args=[weight, self.slow_from, self.budget])
            except redis.RedisError as exc:
                raise RateLimited(
                    UNREACHABLE_WAIT_S, f"the shared count is out of reach ({type(exc).__name__})"
                ) from exc
            if state == 0:
                return
            wait_s = wait_ms / 1000
            if time.monotonic() + wait_s > deadline:
                raise RateLimited(wait_s, _REASONS[state])
            time.sleep(wait_s)

    def observe(self, used_weight: int | None, retry_after_s: float | None) -> None:
        """Feed back what the venue answered: its ``X-MBX-USED-WEIGHT-1M`` (the shared count rises to it) and a
        429/418's ``Retry-After`` (every process waits it out)."""
        if used_weight is None and retry_after_s is None:
            return
        try:
            self._observe(
                keys=[self.key],
                args=[
                    "" if used_weight is None else int(used_weight),
                    "" if retry_after_s is None else round(retry_after_s * 1000),
                ],
            )
        except redis.RedisError as exc:
            log.warning(
                "%s: the venue's answer (used weight %s, Retry-After %s) not shared: %s",
                self.venue,
                used_weight,
                retry_after_s,
                type(exc).__name__,
            )

    def usage(self) -> Usage:
        """The count and pause as they stand, read without taking anything."""
        seconds, micros = self._client.time()
        now = seconds * 1000 + micros // 1000
        state = self._client.hmget(self.key, ["minute", "used", "until"])
        used = int(state[1]) if state[0] is not None and int(state[0]) == now // 60000 else 0
        paused_ms = max(0, int(state[2] or 0) - now)
        return Usage(used, self.budget, paused_ms / 1000)


class LimitedSession(requests.Session):
    """A ``requests`` session (for a ccxt client) that takes each request's weight from ``limiter`` before sending
    it and feeds every answer's weight and ``Retry-After`` back to it.

    Every HTTP request ccxt makes goes through here (orders, lookups, klines, ``exchangeInfo`` when markets load),
    so nothing reaches the venue uncounted; ``RateLimited`` propagates through ccxt unchanged (it is no
    ``RequestException``), and the request is not sent.
    """

    def __init__(self, limiter: VenueLimiter) -> None:
        super().__init__()
        self.limiter = limiter
        self.hooks["response"].append(self._observe)

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> requests.Response:
        parts = urlsplit(url)
        self.limiter.acquire(request_weight(method, parts.path, dict(parse_qsl(parts.query))))
        return super().request(method, url, *args, **kwargs)

    def _observe(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        weight = response.headers.get("X-MBX-USED-WEIGHT-1M")
        retry_after = None
        if response.status_code in (418, 429):  # without a Retry-After, wait a minute (Binance always sends one)
            retry_after = float(response.headers.get("Retry-After") or 60)
        self.limiter.observe(int(weight) if weight is not None else None, retry_after)


def venue_name(settings: ExchangeSettings, signed: bool = True) -> str:
    """Whose limit a client shares: the ccxt id and where it points (a URL's host, or testnet/live), since testnet,
    live and a gateway each count their own weight. An unsigned client (history) reads the live venue unless a URL
    says otherwise (``tickflow.exchange_client``)."""
    where = urlsplit(settings.url).netloc if settings.url else (settings.env if signed else "live")
    return f"{settings.exchange}:{where}"


HISTORY_MAX_WAIT_S = 65.0
"""How long a history download's request waits for room in the shared budget: a download has no deadline, so it
waits out the rest of a minute (and a short ``Retry-After``) rather than fail."""


def history_session(settings: ExchangeSettings) -> LimitedSession:
    """The session a history download's client sends through (``tickflow.history.VenueHistory``): its requests
    count against the same shared budget as trading on that venue, in ``REDIS_URL``."""
    limiter = VenueLimiter(
        connections.redis_client(), venue_name(settings, signed=False), max_wait_s=HISTORY_MAX_WAIT_S
    )
    return LimitedSession(limiter)
