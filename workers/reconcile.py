"""Reconciliation with the venue: what the venue did that the engine may not know, settled before live orders go out.

A pass runs when a live worker starts, when Redis comes back empty (its mark,
``keys.venue_reconciled()``, is gone with it) and when a strategy starts live; no live order is
sent until one has completed (``ensure``). It is what nautilus_trader does at start-up, for a
spot account:

A beat task (``tasks.live.reconcile_venue``, every 5 minutes) runs a pass too, without holding orders back:
it reports what a retry that gave up, or a close dropped past its deadline, left unbooked.

1. every order the ledger (``tickflow.storage.order_ledger``) has not seen settle -- ``sent`` by a
   worker killed before it booked the answer, or left ``unknown`` -- is looked up by client id and
   its state recorded; one the venue never booked is ``not_sent`` once no request for it can still
   arrive and no task still holds its claim;
2. the venue's recent orders on each live symbol are listed: one of ours the ledger lacks is
   adopted -- recorded with ``adopted`` and its fills, keyed by trade id, so adopting it again
   stores nothing -- and an order of ours that executed but that no trade record books, with no
   task left to book it (its claim gone), is a ``mismatch``; a foreign order (not a TickFlow client
   id: placed by hand or by another bot) is reported once with a ``foreign`` event, never traded;
3. each base asset's balance on the venue is compared with what the live strategies' positions
   hold of it: an account holding less than the engine counts raises a ``mismatch`` (a close
   would be refused). Holding more is normal: the account may hold the asset for its owner.

A mismatch is reported, never repaired: the halt (``tickflow halt``) is one command away, and
docs/exchanges.md says what to do.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import ccxt
import redis
from pymongo.errors import PyMongoError
from redis.exceptions import LockError

from strategies import client_ids
from strategies import position as machine
from strategies.candles import TIMEFRAME_MS
from strategies.domain import OrderSide
from tickflow.settings import LiveSettings
from tickflow.storage import keys
from tickflow.storage.active import LiveEntry, OrderUnsettled
from tickflow.storage.events import publish
from tickflow.storage.order_ledger import FINAL_STATES, OrderLedger
from tickflow.storage.trade_logs import TradeLogRepository
from workers.archive import Outbox
from workers.exchange import ExchangeBroker
from workers.orders import OrderRequest, Outcome, OutcomeKind
from workers.positions import PositionBook
from workers.venue_orders import ledger_record

log = logging.getLogger(__name__)

LOCK_S = 30
"""How long one pass may hold the lock (a pass killed holding it holds live orders back this long at most)."""
SIZE_TOLERANCE = 1e-8
BUSY_S = 60.0
"""A symbol with an order recorded this recently is left out of the balance check (its position may be moving)."""


@dataclass
class Reconciled:
    """What a pass found: client order ids settled, adopted, foreign; mismatch events raised."""

    settled: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    mismatches: list[dict] = field(default_factory=list)


RUNNING_RETRY_S = 0.5
"""How soon an ``execute`` waiting for another process's pass looks again: a pass takes well under a second, and
this wait (below ``SETTLE_RETRY_S``) does not mark the position as awaiting the venue (``LiveEngine._await_venue``)."""


class VenueReconciliation:
    def __init__(
        self,
        client: redis.Redis,
        broker: ExchangeBroker,
        ledger: OrderLedger,
        ledger_outbox: Outbox,
        trade_logs: TradeLogRepository,
        trade_outbox: Outbox,
        book: PositionBook,
        settings: LiveSettings,
    ) -> None:
        self.redis = client
        self.broker = broker
        self.ledger = ledger
        self.ledger_outbox = ledger_outbox
        self.trade_logs = trade_logs
        self.trade_outbox = trade_outbox
        self.book = book
        self.settings = settings
        self.events_length = settings.events_length

    def ensure(self, live: Callable[[], dict[str, LiveEntry]]) -> None:
        """Return once a pass has completed since live state began, running it here (over the live strategies
        ``live()`` returns) if none has; raise ``OrderUnsettled`` while another process runs it, or when the
        venue could not be asked."""
        if self.redis.exists(keys.venue_reconciled()):
            return
        try:
            done = self.run_locked(live())
        except ccxt.BaseError as error:
            raise OrderUnsettled("", f"the venue reconciliation could not ask the venue: {error}") from None
        except PyMongoError as error:
            raise OrderUnsettled("", f"the venue reconciliation could not read the ledger: {error}", 5.0) from None
        if done is None:
            raise OrderUnsettled("", "the venue reconciliation is running; live orders wait for it", RUNNING_RETRY_S)

    def run_locked(self, live: dict[str, LiveEntry]) -> Reconciled | None:
        """``run``, unless another process is running a pass: None then."""
        lock = self.redis.lock(keys.venue_reconcile_lock(), timeout=LOCK_S)
        if not lock.acquire(blocking=False):
            return None
        try:
            return self.run(live)
        finally:
            with contextlib.suppress(LockError):  # outlived its timeout: another pass holds it now
                lock.release()

    def run(self, live: dict[str, LiveEntry]) -> Reconciled:
        """One pass over the live strategies ``live`` (id -> entry); marks the venue reconciled.

        Raises ``ccxt.BaseError`` if the venue cannot be asked, ``PyMongoError`` if MongoDB cannot (the mark is then
        not set).
        """
        found = Reconciled()
        _, holdings = self.broker.balances()  # first: an order in flight by now has its ``sent`` in the outbox
        self.ledger_outbox.drain()
        self.trade_outbox.drain()
        self._settle_ledger(live, found)
        since: dict[str, int] = {}
        for entry in live.values():
            for symbol in entry.symbols:
                since[symbol] = min(since.get(symbol, entry.since), entry.since)
        for symbol, start in sorted(since.items()):
            self._venue_orders(symbol, start, found)
        self._unbooked(live, found)
        self._balances(live, holdings, found)
        if found.mismatches:
            pipe = self.redis.pipeline()
            for mismatch in found.mismatches:
                publish(pipe, "mismatch", mismatch, self.events_length)
            pipe.execute()
        self.redis.set(keys.venue_reconciled(), int(time.time() * 1000))
        log.info(
            "venue reconciliation: %d settled, %d adopted, %d foreign, %d mismatch(es)",
            len(found.settled),
            len(found.adopted),
            len(found.foreign),
            len(found.mismatches),
        )
        return found

    def _settle_ledger(self, live: dict[str, LiveEntry], found: Reconciled) -> None:
        for doc in self.ledger.unsettled(self.broker.venue):
            request = _request(doc)
            try:
                outcome = self.broker.lookup(request.client_order_id, request.symbol)
            except ValueError as error:  # a symbol the venue no longer lists: nothing to ask, nothing to settle
                log.warning("venue reconciliation: %s left as it is: %s", request.client_order_id, error)
                continue
            if outcome is not None:
                self._note(request, outcome, "settled by the venue reconciliation")
                found.settled.append(request.client_order_id)
            elif not self._bookable(request, live):
                outcome = Outcome(OutcomeKind.NOT_SENT, request.client_order_id, request.side)
                self._note(request, outcome, "the venue never booked it, and no task can send it any more")
                found.settled.append(request.client_order_id)

    def _venue_orders(self, symbol: str, since_ms: int, found: Reconciled) -> None:
        listed = self.broker.recent_orders(symbol, since_ms)
        ours = [order for order in listed if client_ids.is_ours(order["clientOrderId"])]
        states = self.ledger.states(order["clientOrderId"] for order in ours)
        for order in ours:
            client_id = order["clientOrderId"]
            if states.get(client_id) in FINAL_STATES or order["status"] in ("NEW", "PARTIALLY_FILLED"):
                continue
            outcome = self.broker.lookup(client_id, symbol)
            if outcome is None:
                continue
            try:
                decoded = client_ids.decode(client_id, [symbol])
            except client_ids.ClientIdError as error:
                log.warning("venue reconciliation: %s", error)
                continue
            request = OrderRequest(
                client_id,
                decoded.strategy_id,
                symbol,
                outcome.side,
                outcome.requested,
                outcome.average_price,
                outcome.commission,
                decoded.candle_open_ms,
                decoded.action,
            )
            self._note(request, outcome, "adopted: on the venue, not settled in the ledger", adopted=True)
            found.adopted.append(client_id)
        for order in listed:
            client_id, venue_id = order["clientOrderId"], str(order["orderId"])
            if client_ids.is_ours(client_id) or not self.redis.sadd(keys.venue_reported(), venue_id):
                continue
            found.foreign.append(client_id)
            log.warning(
                "venue reconciliation: foreign order %s (%s) %s %s %s, not placed by TickFlow: left alone",
                venue_id,
                client_id,
                order["side"],
                order["executedQty"],
                symbol,
            )
            publish(
                self.redis,
                "foreign",
                {
                    "venue_order_id": venue_id,
                    "client_order_id": client_id,
                    "symbol": symbol,
                    "side": order["side"].lower(),
                    "status": order["status"],
                    "executed": float(order["executedQty"]),
                    "time": int(order["time"]),
                },
                self.events_length,
            )

    def _unbooked(self, live: dict[str, LiveEntry], found: Reconciled) -> None:
        """A mismatch for each order that executed on the venue, that no trade record books and that no task can
        book any more (its close dropped past its deadline, its ``execute`` gave up or died for good); each order
        is checked once, after its last chance to be booked."""
        checked = []
        for doc in self.ledger.executed_unchecked(self.broker.venue):
            request = _request(doc)
            if self._bookable(request, live):
                continue  # looked at again by a later pass
            checked.append(request.client_order_id)
            if self.trade_logs.books_order(request.strategy_id, request.client_order_id):
                continue
            executed = float(doc["outcome"]["executed"])
            position = self.book.load(request.strategy_id, request.symbol, 0.0)
            engine_size = position.side * float(position.state[machine.SIZE])
            signed = executed if request.side is OrderSide.BUY else -executed
            found.mismatches.append(
                _mismatch(
                    request.strategy_id,
                    request.symbol,
                    engine_size,
                    engine_size + signed,
                    f"order {request.client_order_id} ({request.reason}) executed {executed:g} on the venue "
                    "and no trade books it",
                )
            )
        self.ledger.mark_checked(checked)

    def _balances(self, live: dict[str, LiveEntry], total: dict[str, float], found: Reconciled) -> None:
        held: dict[str, float] = defaultdict(float)
        holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
        wanted = [(sid, symbol, entry.cash) for sid, entry in live.items() for symbol in entry.symbols]
        # An order that moved lately may be executed on the venue and not stored in its position yet (or the
        # reverse): its symbol is compared at the next pass.
        moving = self.ledger.recent_symbols(self.broker.venue, time.time() - BUSY_S)
        for position in self.book.load_many(wanted):
            if position.side > 0 and position.symbol not in moving:
                try:
                    base = self.broker.rules(position.symbol).base
                except ValueError:  # no longer listed: its holding cannot be told apart
                    continue
                held[base] += float(position.state[machine.SIZE])
                holders[base].append((position.strategy_id, position.symbol))
        for base, size in sorted(held.items()):
            on_venue = total.get(base, 0.0)
            if on_venue + SIZE_TOLERANCE * max(1.0, size) >= size:
                continue
            symbols = ",".join(sorted({symbol for _, symbol in holders[base]}))
            strategies = ",".join(sorted({sid for sid, _ in holders[base]}))
            found.mismatches.append(
                _mismatch(
                    strategies,
                    symbols,
                    size,
                    on_venue,
                    f"the venue account holds {on_venue:g} {base}; live positions hold {size:g}",
                )
            )

    def _note(self, request: OrderRequest, outcome: Outcome, detail: str, adopted: bool = False) -> None:
        extra = {"adopted": True} if adopted else {}
        record = ledger_record(self.broker.venue, request, outcome.kind.value, detail, outcome, **extra)
        self.ledger.record([record])

    def _bookable(self, request: OrderRequest, live: dict[str, LiveEntry]) -> bool:
        """Whether a task may still send or book the order: its strategy trades live and it was claimed less than
        its close's retention ago (``LiveSettings.close_retention_s``), past which every task drops the close.
        By the claim's age, not the candle's time: that is the wall clock's, whatever the feed replays."""
        entry = live.get(request.strategy_id)
        remaining_ms = self.redis.pttl(keys.order_claim(request.client_order_id))
        if entry is None or remaining_ms < 0:
            return False
        period = TIMEFRAME_MS[entry.timeframe]
        age_s = self.settings.venue_claim_s(period) - remaining_ms / 1000
        return age_s < self.settings.close_retention_s(period)


def _request(doc: dict) -> OrderRequest:
    """The order a ledger document records."""
    return OrderRequest(
        doc["_id"],
        doc["strategy_id"],
        doc["symbol"],
        OrderSide(doc["side"]),
        doc["size"],
        doc["price"],
        0.0,
        doc["ts"],
        doc["reason"],
    )


def _mismatch(strategy_id: str, symbol: str, engine_size: float, broker_size: float, reason: str) -> dict:
    log.error("venue reconciliation: mismatch on %s (%s): %s", symbol, strategy_id, reason)
    return {
        "strategy_id": strategy_id,
        "symbol": symbol,
        "mode": "live",
        "engine_size": engine_size,
        "broker_size": broker_size,
        "since": int(time.time() * 1000),
        "confirmed": True,
        "reason": reason,
    }
