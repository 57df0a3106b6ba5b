"""Another process calling the local venue through its own ``ExchangeBroker``, as a second worker would.

``python -m tests.exchange.venue_process URL spend|submit [options]`` prints one JSON line with what
happened. The rate limit is shared only through Redis (``REDIS_URL``, inherited from the test), never
through memory, so what one process does to the budget the other can only learn from there.
"""

from __future__ import annotations

import argparse
import json

import ccxt

from tests.exchange.conftest import API_KEY, API_SECRET
from tests.exchange.test_binance_orders import market
from tickflow.settings import ExchangeSettings
from tickflow.storage import connections
from workers.exchange import ExchangeBroker
from workers.venue_limits import RateLimited, VenueLimiter, venue_name

START = "tests:venue-process:start"
"""Each process pushes to ``START:ready`` and waits for an item on ``START`` before its first request."""


def _broker(url: str, args: argparse.Namespace) -> ExchangeBroker:
    settings = ExchangeSettings(url=url, api_key=API_KEY, api_secret=API_SECRET, timeout_s=2.0)
    limiter = VenueLimiter(
        connections.redis_client(),
        venue_name(settings),
        limit=args.limit,
        slow_from=args.slow_from,
        stop_at=args.stop_at,
        max_wait_s=args.max_wait_s,
    )
    return ExchangeBroker(settings, limiter)


def spend(broker: ExchangeBroker, calls: int) -> dict:
    """Ask for the account ``calls`` times (weight 20 each, after 20 for ``exchangeInfo``), all at once with the
    other processes: how many went, how many the shared budget held back, the venue's highest count."""
    redis = connections.redis_client()
    redis.rpush(f"{START}:ready", 1)
    redis.blpop([START], timeout=30)
    sent, held_back, errors, highest = 0, 0, [], 0
    for _ in range(calls):
        try:
            broker.free_balances()
            sent += 1
        except RateLimited:
            held_back += 1
        except ccxt.BaseError as exc:  # a 429 from the venue: the shared budget let too much through
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        highest = max(highest, broker.used_weight or 0)
    return {"sent": sent, "held_back": held_back, "errors": errors, "highest_used_weight": highest}


def submit(broker: ExchangeBroker, candle_ms: int) -> dict:
    """Send one 0.01 BTC market buy: its outcome's kind, why, and how long it was told to wait."""
    outcome = broker.submit(market(0.01, candle=candle_ms))
    return {"kind": outcome.kind.value, "reason": outcome.reason, "retry_after_s": outcome.retry_after_s}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("action", choices=["spend", "submit"])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--candle-ms", type=int, default=1_717_200_000_000)
    parser.add_argument("--limit", type=int, default=6000)
    parser.add_argument("--slow-from", type=float, default=0.8)
    parser.add_argument("--stop-at", type=float, default=0.95)
    parser.add_argument("--max-wait-s", type=float, default=0.0)
    args = parser.parse_args()
    broker = _broker(args.url, args)
    result = spend(broker, args.calls) if args.action == "spend" else submit(broker, args.candle_ms)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
