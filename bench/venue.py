"""One order's round trip to a venue through ccxt: the exchange broker against the local Binance-speaking venue.

    .venv/bin/python bench/venue.py [--orders 500]

Starts ``cli.venue.server`` and a throwaway Redis (for the shared rate limit) on free ports, points an
``ExchangeBroker`` at the venue (as TICKFLOW_EXCHANGE_URL would) and times, one after the other:
``submit`` of a MARKET order that fills (the rate limit's acquire and feedback, signing, HTTP, the
venue's matching, parsing the FULL answer) and ``lookup`` by client order id (order, then its trades);
then ``acquire`` of the shared limit alone (one Lua call to Redis), which every request pays. This is
the "plus one HTTP round trip" in issue 14's close -> exchange-ack target. Orders per second: one
process sending back to back, and that bounded by the weight the shared limit lets through (an order
weighs 1). It prints one line per figure, then a JSON line for machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

from cli.localservices import LocalRedis, free_port  # noqa: E402
from cli.venue import LocalVenue  # noqa: E402
from strategies.client_ids import encode  # noqa: E402
from strategies.domain import OrderSide  # noqa: E402
from tickflow.settings import ExchangeSettings  # noqa: E402
from workers.exchange import ExchangeBroker  # noqa: E402
from workers.orders import OrderRequest, OutcomeKind  # noqa: E402
from workers.venue_limits import VenueLimiter, request_weight, venue_name  # noqa: E402

STRATEGY = "65f1c2a9e4b0d3f7a1c2e3d4"
BINANCE_BUDGET_PER_MIN = int(6000 * 0.95)
"""What the shared limiter lets through a minute of Binance spot's 6,000 weight (``VenueLimiter``'s ``stop_at``)."""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    args = parser.parse_args()
    log = ROOT / "var" / "bench" / "venue.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    venue = LocalVenue.start(log, "benchKey", "benchSecret")
    redis_server = LocalRedis(free_port(), ROOT / "var" / "bench" / "redis-venue", persistent=False)
    redis_server.ensure_running()
    try:
        venue.symbol(
            "BTCUSDT", "BTC", "USDT", price=60_000, depth=1_000_000, max_qty=1_000_000, market_max_qty=1_000_000
        )
        venue.balance(USDT=10**12, BTC=0)
        venue.limits(weight=10**9)  # a lookup weighs 24 (order 4, trades 20): Binance's 6,000 a minute is 250 of them
        settings = ExchangeSettings(url=venue.url, api_key="benchKey", api_secret="benchSecret")
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        limiter = VenueLimiter(client, venue_name(settings), limit=10**9)  # as the venue's: time it, never hold back
        broker = ExchangeBroker(settings, limiter)
        broker.rules("BTCUSDT")  # exchangeInfo once per process, as a worker loads it
        submits, lookups = [], []
        for i in range(args.orders):
            candle = 1_717_200_000_000 + i * 60_000
            order = OrderRequest(
                encode(STRATEGY, "BTCUSDT", candle, "open"),
                STRATEGY,
                "BTCUSDT",
                OrderSide.BUY,
                0.001,
                60_000.0,
                0.0,
                candle,
                "open",
            )
            started = time.perf_counter()
            outcome = broker.submit(order)
            submits.append(time.perf_counter() - started)
            assert outcome.kind is OutcomeKind.FILLED, outcome
            started = time.perf_counter()
            broker.lookup(order.client_order_id, "BTCUSDT")
            lookups.append(time.perf_counter() - started)
        acquires = []
        for _ in range(args.orders):
            started = time.perf_counter()
            limiter.acquire(1)
            acquires.append(time.perf_counter() - started)
    finally:
        venue.stop()
        redis_server.stop()
    serial = len(submits) / sum(submits)  # one process, one order after the other
    within_weight = BINANCE_BUDGET_PER_MIN / 60 / request_weight("POST", "/api/v3/order", {})
    figures = {
        "orders": args.orders,
        "submit": percentiles(submits),
        "lookup": percentiles(lookups),
        "acquire": percentiles(acquires),
        "orders_per_s_one_process": round(serial, 1),
        "orders_per_s_within_weight": round(min(serial, within_weight), 1),
    }
    print(f"submit (MARKET, FULL answer)  p50 {figures['submit']['p50_ms']} ms  p99 {figures['submit']['p99_ms']} ms")
    print(f"lookup (order + its trades)   p50 {figures['lookup']['p50_ms']} ms  p99 {figures['lookup']['p99_ms']} ms")
    print(f"acquire (shared rate limit)   p50 {figures['acquire']['p50_ms']} ms  p99 {figures['acquire']['p99_ms']} ms")
    print(
        f"orders/s, one process         {figures['orders_per_s_one_process']} back to back; "
        f"{figures['orders_per_s_within_weight']} within Binance's 6,000 weight a minute (its order-count "
        "limits, per account, are lower still)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
