"""Orders through ccxt against the local Binance-speaking venue: what the venue did is what the broker reports.

Every test runs the real ``cli.venue.server`` process over HTTP; nothing of ccxt or the network is
replaced. ``venue.state()`` is the venue's own record: how many orders it booked and how many
placements it received, so "sent once" and "sent nothing" are read from the venue itself.
"""

from __future__ import annotations

import ccxt
import pytest

from strategies.client_ids import encode
from strategies.domain import OrderSide
from tests.exchange.conftest import API_KEY, API_SECRET, exchange_settings
from workers.exchange import ExchangeBroker
from workers.orders import OrderRequest, OutcomeKind

STRATEGY = "65f1c2a9e4b0d3f7a1c2e3d4"
CANDLE = 1_717_200_000_000


def market(size: float, side: OrderSide = OrderSide.BUY, action: str = "open", candle: int = CANDLE, **changes):
    values = {
        "client_order_id": encode(STRATEGY, "BTCUSDT", candle, action),
        "strategy_id": STRATEGY,
        "symbol": "BTCUSDT",
        "side": side,
        "size": size,
        "price": 60_000.0,
        "commission": 0.0,
        "ts": candle,
        "reason": action,
        **changes,
    }
    return OrderRequest(**values)


def placements(venue) -> int:
    return venue.state()["requests"].get("POST /api/v3/order", 0)


def test_a_market_buy_fills_and_holds_the_quantity_net_of_the_fee_taken_in_base(venue, broker):
    outcome = broker.submit(market(0.01))
    assert outcome.kind is OutcomeKind.FILLED
    assert (outcome.gross, outcome.average_price) == (0.01, 60_000.0)
    assert outcome.executed == pytest.approx(0.00999)  # the 0.1 % fee came out of the BTC received
    assert outcome.fees == (("BTC", pytest.approx(0.00001)),)
    assert outcome.commission == pytest.approx(0.6)
    assert outcome.fill(CANDLE).size == outcome.executed
    assert venue.state()["balances"]["BTC"][0] == "1.00999000"
    sold = broker.submit(market(outcome.executed, OrderSide.SELL, "signal", CANDLE + 60_000))
    assert sold.kind is OutcomeKind.FILLED and sold.executed == pytest.approx(0.00999)
    assert sold.fees == (("USDT", pytest.approx(0.5994)),)  # a sell pays in the quote it receives
    assert venue.state()["balances"]["BTC"][0] == "1.00000000"


def test_a_market_order_beyond_the_depth_fills_partly_then_expires_with_what_it_executed(venue, broker):
    venue.symbol("BTCUSDT", "BTC", "USDT", asks=[[60_000, 0.003], [60_010, 0.002]])
    outcome = broker.submit(market(0.01))
    assert (outcome.kind, outcome.venue_status) == (OutcomeKind.PARTIAL, "EXPIRED")
    assert outcome.gross == pytest.approx(0.005) and outcome.executed == pytest.approx(0.004995)
    assert outcome.average_price == pytest.approx((0.003 * 60_000 + 0.002 * 60_010) / 0.005)
    assert len(outcome.trades) == 2 and len({t.trade_id for t in outcome.trades}) == 2
    looked_up = broker.lookup(outcome.client_order_id, "BTCUSDT")
    assert (looked_up.kind, looked_up.executed, looked_up.fees) == (outcome.kind, outcome.executed, outcome.fees)


def test_a_filled_orders_client_id_is_accepted_again_by_the_venue_so_only_the_claim_prevents_a_second_trade(
    venue, broker
):
    first, again = broker.submit(market(0.01)), broker.submit(market(0.01))
    assert first.kind is again.kind is OutcomeKind.FILLED
    assert first.venue_order_id != again.venue_order_id
    assert len(venue.state()["orders"]) == 2


def open_limit_order(venue, client_order_id: str) -> None:
    """A resting LIMIT buy under ``client_order_id``, placed by another client: an open order with that id."""
    options = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}
    client = ccxt.binance({"apiKey": API_KEY, "secret": API_SECRET, "options": options})
    client.urls["api"] = {**client.urls["api"], "public": f"{venue.url}/api/v3", "private": f"{venue.url}/api/v3"}
    client.create_order("BTC/USDT", "limit", "buy", 0.01, 50_000, {"newClientOrderId": client_order_id})


def test_an_open_orders_id_is_a_duplicate_and_the_broker_reports_that_order_instead(venue, broker):
    order = market(0.01)
    open_limit_order(venue, order.client_order_id)
    outcome = broker.submit(order)
    assert (outcome.kind, outcome.venue_status, outcome.executed) == (OutcomeKind.PENDING, "NEW", 0.0)
    assert len(venue.state()["orders"]) == 1


def test_a_size_is_rounded_down_to_the_step_and_one_below_the_filters_is_refused_without_sending(venue, broker):
    assert broker.submit(market(0.0123456789)).requested == 0.01234
    sent = placements(venue)
    for size, filter_name in ((0.000001, "LOT_SIZE"), (0.00005, "NOTIONAL"), (500.0, "LOT_SIZE")):
        outcome = broker.submit(market(size))
        assert outcome.kind is OutcomeKind.NOT_SENT and outcome.final
        assert outcome.reason.startswith(filter_name)
    assert placements(venue) == sent


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda venue: venue.balance(USDT=10), -2010),  # insufficient balance
        (
            lambda venue: venue.symbol("BTCUSDT", "BTC", "USDT", price=100, depth=1),
            -1013,
        ),  # NOTIONAL at the venue's price
    ],
)
def test_venue_rejections_are_final_and_carry_binances_code(venue, broker, setup, code):
    setup(venue)
    outcome = broker.submit(market(0.01))
    assert (outcome.kind, outcome.code, outcome.final) == (OutcomeKind.REJECTED, code, True)
    assert outcome.reason and outcome.executed == 0
    assert venue.state()["orders"] == []


def test_a_clock_off_the_venues_is_measured_when_markets_load_and_again_after_a_minus_1021_for_the_retry(venue, broker):
    venue.clock(-30_000)  # the venue's clock is 30 s behind ours: our timestamps look 30 s ahead
    assert broker.submit(market(0.01)).kind is OutcomeKind.FILLED
    venue.clock(45_000)  # it jumps ahead: our next request looks 45 s old, and the venue refuses it (-1021)
    later = market(0.01, candle=CANDLE + 60_000)
    refused = broker.submit(later)
    assert (refused.kind, refused.retry_after_s) == (OutcomeKind.NOT_SENT, 0.0)  # never executed: send it again
    assert broker.submit(later).kind is OutcomeKind.FILLED  # with the drift measured again
    assert len(venue.state()["orders"]) == 2


def test_an_order_for_a_symbol_in_a_break_is_not_sent_and_left_for_a_retry(venue, broker):
    venue.symbol("BTCUSDT", "BTC", "USDT", status="BREAK")
    held = broker.submit(market(0.01))
    assert (held.kind, held.retry_after_s) == (OutcomeKind.NOT_SENT, 5.0) and "not trading" in held.reason
    assert venue.state()["orders"] == []


def test_only_what_the_venues_minimums_refuse_is_dust(venue, broker):
    rules = broker.rules("BTCUSDT")  # step and minimum 0.00001, notional at least 5
    assert rules.below_minimums(0.000009, 60_000) and rules.below_minimums(0.00008, 60_000)  # 4.8 USDT
    assert not rules.below_minimums(0.0001, 60_000)


def test_an_id_outside_the_venues_alphabet_is_rejected_with_minus_1100(venue, broker):
    outcome = broker.submit(market(0.01, client_order_id=f"{STRATEGY}-BTCUSDT-{CANDLE}-open"))  # old ids: 51 chars
    assert (outcome.kind, outcome.code) == (OutcomeKind.REJECTED, -1100)


def test_a_wrong_key_or_secret_is_refused_by_the_venue(venue):
    wrong_key = ExchangeBroker(exchange_settings(venue, api_key="someoneElsesKey"))
    assert wrong_key.submit(market(0.01)).code == -2015
    wrong_secret = ExchangeBroker(exchange_settings(venue, api_secret="notTheSecret"))
    assert wrong_secret.submit(market(0.01)).code == -1022
    assert venue.state()["orders"] == []


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "drop"},
        {"action": "error", "status": 503},
        {"action": "error", "status": 408, "code": -1007, "msg": "Timeout waiting for response from backend server."},
        {"action": "delay", "seconds": 3},
    ],
    ids=["connection dropped", "503", "-1007", "answer after the timeout"],
)
def test_an_order_booked_without_a_usable_answer_is_unknown_and_settled_by_lookup_never_by_sending_again(
    venue, broker, fault
):
    venue.faults(fault)
    outcome = broker.submit(market(0.01))
    assert outcome.kind is OutcomeKind.UNKNOWN and not outcome.final
    settled = broker.lookup(outcome.client_order_id, "BTCUSDT")
    assert settled.kind is OutcomeKind.FILLED and settled.executed == pytest.approx(0.00999)
    assert settled.fees == (("BTC", pytest.approx(0.00001)),)
    assert placements(venue) == 1 and len(venue.state()["orders"]) == 1


def test_a_lookup_does_not_settle_an_order_on_a_trade_list_that_lags_its_status(venue, broker):
    """The venue reports the order FILLED before its trade list has the fill, and with it the base-asset fee that
    decides what the account holds: the lookup refuses to settle on that, and the next one books it whole."""
    venue.faults({"action": "error", "status": 503})
    outcome = broker.submit(market(0.01))
    venue.trades_behind(1)
    with pytest.raises(ccxt.ExchangeNotAvailable, match=r"executed 0\.01000000 but the venue lists trades for 0 "):
        broker.lookup(outcome.client_order_id, "BTCUSDT")
    settled = broker.lookup(outcome.client_order_id, "BTCUSDT")
    assert settled.kind is OutcomeKind.FILLED and settled.executed == pytest.approx(0.00999)
    assert placements(venue) == 1


def test_an_order_the_venue_never_booked_is_unknown_and_its_lookup_finds_nothing(venue, broker):
    """Whether to send it again is the engine's call, long after (tests/workers/test_venue_reconciliation.py)."""
    venue.faults({"action": "error", "status": 503, "before_booking": True})
    outcome = broker.submit(market(0.01))
    assert outcome.kind is OutcomeKind.UNKNOWN
    assert broker.lookup(outcome.client_order_id, "BTCUSDT") is None
    assert placements(venue) == 1 and venue.state()["orders"] == []


def test_a_rate_limited_order_is_not_sent_and_carries_the_venues_retry_after(venue, broker):
    broker.submit(market(0.01))
    assert broker.used_weight is not None and broker.used_weight > 0
    venue.limits(retry_after_s=7)
    outcome = broker.submit(market(0.01, action="signal"))
    assert (outcome.kind, outcome.code, outcome.retry_after_s) == (OutcomeKind.NOT_SENT, -1003, 7.0)
    assert len(venue.state()["orders"]) == 1


def test_free_balances_are_the_venues(venue, broker):
    assert broker.free_balances() == {"BTC": 1.0, "USDT": 100_000.0}


def test_fees_paid_in_bnb_leave_the_bought_quantity_whole_and_count_at_bnbs_price(venue, broker):
    """An account that pays its fees with BNB (25 % off on Binance) keeps all the base it bought; the fee, charged in
    BNB, counts in the trade's commission at the venue's BNBUSDT price."""
    venue.symbol("BNBUSDT", "BNB", "USDT", price=600, depth=1_000_000, step="0.001", min_qty="0.001")
    venue.balance(BNB=1)
    venue.fee_asset("BNB")
    outcome = broker.submit(market(0.01))
    assert outcome.kind is OutcomeKind.FILLED and outcome.executed == 0.01  # no base asset taken for the fee
    assert outcome.fees == (("BNB", pytest.approx(0.00075)),)  # 0.1 % of 600 USDT, 25 % off, at 600 USDT a BNB
    assert outcome.commission == pytest.approx(0.45)
    assert venue.state()["balances"]["BNB"][0] == "0.99925000"
