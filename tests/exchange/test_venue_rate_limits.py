"""The venue's rate limit, shared through Redis by every process: weights, the venue's own count, Retry-After.

Other processes are real ones (``tests.exchange.venue_process``) with their own broker and Redis
connection; the venue is the local Binance-speaking server, which answers 429 past its weight limit,
so "never exceeded" is read from the venue itself. Counts are per minute: a test comparing counts
first makes sure its minute has room left (``room_in_this_minute``) rather than racing the rollover.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request

import ccxt
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from cli.localservices import free_port
from tests.celery_workers import wait_for
from tests.conftest import ROOT, TEST_REDIS_PORT
from tests.exchange.conftest import exchange_settings
from tests.exchange.test_binance_orders import market, open_limit_order
from tests.exchange.venue_process import START
from tickflow.storage import connections
from workers.exchange import ExchangeBroker
from workers.orders import OutcomeKind
from workers.venue_limits import RateLimited, VenueLimiter, request_weight, venue_name


def room_in_this_minute(seconds: int = 20) -> None:
    """Wait until at least ``seconds`` of the Redis clock's minute remain, so no count resets mid-test."""
    redis = connections.redis_client()
    wait_for(lambda: 60 - redis.time()[0] % 60 >= seconds, timeout=seconds + 5, what="a fresh minute")


def other_process(venue, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.exchange.venue_process", venue.url, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def limiter_for(venue, **options) -> VenueLimiter:
    """The limiter a broker on this venue shares, with these settings (``limit``, ``slow_from``, ...)."""
    return VenueLimiter(connections.redis_client(), venue_name(exchange_settings(venue)), **options)


@pytest.mark.parametrize(
    ("method", "path", "query", "weight"),
    [
        ("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, 1),
        ("GET", "/api/v3/order", {"symbol": "BTCUSDT"}, 4),
        ("DELETE", "/api/v3/order", {"symbol": "BTCUSDT"}, 1),
        ("GET", "/api/v3/account", {}, 20),
        ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, 20),
        ("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, 20),
        ("GET", "/api/v3/exchangeInfo", {}, 20),
        ("GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"}, 2),
        ("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, 6),
        ("GET", "/api/v3/openOrders", {}, 80),
        ("GET", "/api/v3/time", {}, 1),
        ("get", "/gateway/binance/api/v3/order", {"symbol": "BTCUSDT"}, 4),
        ("GET", "/api/v3/somethingNew", {}, 20),
    ],
)
def test_each_endpoint_weighs_what_binance_spot_charges_for_it(method, path, query, weight):
    assert request_weight(method, path, query) == weight


def test_a_broker_charges_the_shared_count_each_requests_weight_before_the_venue_answers(venue):
    """The count is raised ahead of the venue's own (by 100 the venue never saw), so its answers, which only raise
    the count to theirs, cannot hide a wrong charge: each step adds exactly its requests' weights."""
    room_in_this_minute()
    broker = ExchangeBroker(exchange_settings(venue))
    broker.limiter.acquire(100)

    def charged(step) -> int:
        before = broker.limiter.usage().used
        step()
        return broker.limiter.usage().used - before

    assert charged(lambda: broker.rules("BTCUSDT")) == 1 + 20  # time (our clock's drift), exchangeInfo
    assert charged(lambda: broker.submit(market(0.01))) == 1  # order POST
    assert charged(lambda: broker.lookup(market(0.01).client_order_id, "BTCUSDT")) == 4 + 20  # order GET, myTrades
    assert charged(broker.free_balances) == 20  # account
    assert broker.limiter.usage().used == 100 + broker.used_weight == 100 + 66
    assert venue.state()["requests"] == {
        "GET /api/v3/time": 1,
        "GET /api/v3/exchangeInfo": 1,
        "POST /api/v3/order": 1,
        "GET /api/v3/order": 1,
        "GET /api/v3/myTrades": 1,
        "GET /api/v3/account": 1,
    }


def test_the_venues_used_weight_header_raises_the_shared_count_to_the_venues(venue):
    """Weight spent on the same IP by software that does not share the count (here: plain HTTP) still counts."""
    room_in_this_minute()
    for _ in range(10):  # 200 weight the shared count does not know of
        urllib.request.urlopen(f"{venue.url}/api/v3/exchangeInfo", timeout=10).read()
    broker = ExchangeBroker(exchange_settings(venue))
    broker.free_balances()  # time, exchangeInfo and account: 41 of our own
    assert broker.used_weight == 241
    assert broker.limiter.usage().used == 241


def test_two_processes_sharing_the_budget_never_exceed_it_together(venue):
    """Each process alone would spend 420 weight; the venue refuses (429) anything past 80 in a minute, and the
    shared budget is 80: together they send at most that, and neither ever meets the venue's refusal."""
    venue.limits(weight=80)
    redis = connections.redis_client()
    options = ["--limit", "100", "--slow-from", "0.8", "--stop-at", "0.8", "--calls", "20"]
    processes = [other_process(venue, "spend", *options) for _ in range(2)]
    wait_for(lambda: redis.llen(f"{START}:ready") == 2, what="both processes ready")
    redis.rpush(START, 1, 1)
    results = [result_of(process) for process in processes]
    assert [r["errors"] for r in results] == [[], []]
    assert max(r["highest_used_weight"] for r in results) <= 80
    assert sum(r["held_back"] for r in results) > 0
    assert sum(r["sent"] for r in results) >= 1


def test_a_429_with_retry_after_seen_by_one_broker_makes_another_process_wait_until_it_passes(venue):
    """The other process is held back without sending while the pause lasts, and sends only after it ends."""
    venue.limits(retry_after_s=2)
    broker = ExchangeBroker(exchange_settings(venue))
    with pytest.raises(ccxt.DDoSProtection) as answered:
        broker.free_balances()  # the venue answers 429 with Retry-After: 2
    assert not isinstance(answered.value, RateLimited)
    venue.limits(retry_after_s=0)  # the venue would answer again: whatever waits now, waits for the shared pause
    paused_until_ms = int(connections.redis_client().hget(broker.limiter.key, "until"))
    requests_before = venue.state()["requests"]

    refused = result_of(other_process(venue, "submit", "--max-wait-s", "0"))
    assert refused["kind"] == OutcomeKind.NOT_SENT
    assert 0 < refused["retry_after_s"] <= 2
    assert "Retry-After" in refused["reason"]
    assert venue.state()["requests"] == requests_before

    waited = result_of(other_process(venue, "submit", "--max-wait-s", "10"))
    assert waited["kind"] == OutcomeKind.FILLED
    (order,) = venue.state()["orders"]
    assert order["time"] >= paused_until_ms


def test_the_same_broker_holds_its_own_requests_back_while_the_venues_pause_lasts(venue):
    venue.limits(retry_after_s=30)
    broker = ExchangeBroker(exchange_settings(venue))
    with pytest.raises(ccxt.DDoSProtection):
        broker.free_balances()
    venue.limits(retry_after_s=0)
    outcome = broker.submit(market(0.01))
    assert outcome.kind == OutcomeKind.NOT_SENT and outcome.retry_after_s > 2
    with pytest.raises(RateLimited):
        broker.lookup(market(0.01).client_order_id, "BTCUSDT")
    assert venue.state()["requests"] == {"GET /api/v3/exchangeInfo": 1}
    assert broker.limiter.usage().paused_s > 2


def test_past_slow_from_the_rest_of_the_budget_is_spread_over_the_minute(venue):
    """Half the budget goes at once; the other half only as the minute passes, so a burst cannot spend it all."""
    room_in_this_minute()
    limiter = limiter_for(venue, limit=100, slow_from=0.5, stop_at=1.0, max_wait_s=0)
    limiter.acquire(50)
    with pytest.raises(RateLimited, match="slowing down") as held:
        for _ in range(50):
            limiter.acquire(1)
    assert limiter.usage().used < 100
    assert held.value.wait_s <= 60 / 50  # one more unit of weight is due within a fiftieth of the minute


def test_a_spent_budget_holds_requests_back_until_the_next_minute(venue):
    room_in_this_minute()
    limiter = limiter_for(venue, limit=100, slow_from=0.9, stop_at=0.9, max_wait_s=0)
    limiter.acquire(90)
    with pytest.raises(RateLimited, match="budget is spent") as held:
        limiter.acquire(1)
    assert 0 < held.value.wait_s <= 60
    assert limiter.usage().used == 90


def test_without_redis_nothing_is_sent_uncounted(venue):
    """No shared count, no request: the order is reported not sent, and the venue never hears of it."""
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    settings = exchange_settings(venue)
    broker = ExchangeBroker(settings, VenueLimiter(unreachable, venue_name(settings)))
    outcome = broker.submit(market(0.01))
    assert outcome.kind == OutcomeKind.NOT_SENT and outcome.retry_after_s > 0
    assert "out of reach" in outcome.reason
    assert venue.state()["requests"] == {}


def test_an_order_sent_keeps_its_outcome_when_redis_fails_before_the_answer_is_shared(venue):
    """The venue books the order and answers a second later; Redis stops answering meanwhile. The feedback is
    lost (logged), the fill is not."""
    limiter_client = redis.Redis(port=TEST_REDIS_PORT, socket_timeout=0.3, retry=Retry(NoBackoff(), 0))
    settings = exchange_settings(venue)
    broker = ExchangeBroker(settings, VenueLimiter(limiter_client, venue_name(settings)))
    broker.rules("BTCUSDT")
    venue.faults({"action": "delay", "seconds": 1})
    outcomes = []
    sender = threading.Thread(target=lambda: outcomes.append(broker.submit(market(0.01))))
    sender.start()
    wait_for(lambda: venue.state()["orders"], what="the order booked")
    connections.redis_client().execute_command("CLIENT", "PAUSE", 2000, "ALL")
    sender.join(timeout=30)
    assert [o.kind for o in outcomes] == [OutcomeKind.FILLED]


def test_a_duplicate_whose_lookup_the_limit_holds_back_is_reported_unknown_not_rejected(venue):
    """-2010 "Duplicate order sent." means an open order has the id: ours, on the book. When the shared budget leaves
    room for the send (weight 1) but not for the lookup (4), the order's fate is unknown, to be settled later."""
    room_in_this_minute()
    order = market(0.01)
    open_limit_order(venue, order.client_order_id)
    settings = exchange_settings(venue)
    broker = ExchangeBroker(settings, limiter_for(venue, limit=200, slow_from=1.0, stop_at=1.0, max_wait_s=0))
    broker.rules("BTCUSDT")
    broker.limiter.acquire(200 - broker.limiter.usage().used - 2)
    outcome = broker.submit(order)
    assert (outcome.kind, outcome.code, outcome.reason) == (OutcomeKind.UNKNOWN, -2010, "Duplicate order sent.")
    assert not outcome.final
