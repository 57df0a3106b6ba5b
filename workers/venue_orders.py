"""Orders on a venue (``mode: live``): sent one by one, settled by lookup, and booked as the venue executed them.

The state machine moves a position as the paper broker fills orders: whole, at the expected
price, for the spec's commission. On a venue the engine sends a position's orders in the order
the machine made them and books what really happened (``strategies.position.rebook_*``):

* an entry executed in part, or at another price, or for another fee: the position (or the
  trade a stop closed in the same move) holds the executed size net of a base-asset fee, at the
  average price, with the real fees; a close of it sells that size;
* an entry that executed nothing (rejected, refused by the filters, expired empty): the position
  is flat again, and a close of it in the same move is not sent;
* a close executed at another price or fee: its trade is rebooked at them. What a close left on
  the venue is ``dust`` when the venue would refuse to sell it (below its minimums), else a
  ``mismatch``: the venue holds what the engine thinks is closed (docs/exchanges.md says what to do);
* an order whose fate is not known yet (no answer, HTTP 5xx, -1007, still on the book), or one the
  rate limit held back, raises ``OrderUnsettled``: nothing of the move is stored and the task tries
  again later. The retry finds the order claimed and looks it up by its client id instead of
  sending it: a venue keeps a client id unique only among *open* orders, so sending again could trade twice.

A claimed order the venue does not know is sent again only once no attempt that claimed it can
still be sending it (``LiveSettings.order_resend_after_s`` after the claim), and only by the one
attempt that retakes the claim (``OrderClaims.retake``).

Every order goes into the order ledger (``tickflow.storage.order_ledger``) through its Redis outbox:
``sent`` right after the claim and before the request leaves, then each state the venue reports. A
worker killed in between leaves ``sent`` behind for the reconciliation (``workers.reconcile``) to settle.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace

import ccxt
import numpy as np

from strategies import position as machine
from strategies.domain import OrderSide
from tickflow.storage.active import SETTLE_RETRY_S, OrderUnsettled
from tickflow.storage.events import event
from tickflow.storage.positions import Position
from workers.archive import Outbox, finite_or_none
from workers.exchange import ExchangeBroker
from workers.orders import OrderClaims, OrderRequest, Outcome, OutcomeKind
from workers.venue_limits import RateLimited

log = logging.getLogger(__name__)


@dataclass
class PlacedOrder:
    """An order the machine's move made, with what it records: the trade it closes, or the trade it opens."""

    request: OrderRequest
    trade: np.ndarray | None = None
    """The closed trade's row (``strategies.position``), for a close."""
    opened: dict | None = None
    """The opened trade's record (``workers.archive.opened_record``), for an entry."""
    outcome: Outcome | None = None
    """What became of it; None for an order not sent because its entry executed nothing."""


def ledger_record(
    venue: str, request: OrderRequest, state: str, detail: str = "", outcome: Outcome | None = None, **extra: object
) -> dict:
    """The order ledger's record of ``request`` entering ``state`` now (``OrderLedger.record``)."""
    record = {
        "client_order_id": request.client_order_id,
        "venue": venue,
        "strategy_id": request.strategy_id,
        "symbol": request.symbol,
        "side": request.side.value,
        "size": request.size,
        "price": request.price,
        "ts": request.ts,
        "reason": request.reason,
        "state": state,
        "at": int(time.time() * 1000),
        "detail": detail,
        **extra,
    }
    if outcome is not None:
        record["outcome"] = {
            "venue_order_id": outcome.venue_order_id,
            "venue_status": outcome.venue_status,
            "requested": outcome.requested,
            "executed": outcome.executed,
            "gross": outcome.gross,
            "average_price": outcome.average_price,
            "quote": outcome.quote,
            "commission": outcome.commission,
            "fees": [{"asset": asset, "amount": amount} for asset, amount in outcome.fees],
            "code": outcome.code,
        }
        record["fills"] = [asdict(trade) for trade in outcome.trades]
    return record


def _not_sent(request: OrderRequest, reason: str) -> Outcome:
    """The final outcome of an order that never went out and now never will."""
    return Outcome(OutcomeKind.NOT_SENT, request.client_order_id, request.side, reason=reason)


class VenueOrders:
    """Sends and settles the orders of positions trading on one venue."""

    def __init__(self, broker: ExchangeBroker, claims: OrderClaims, resend_after_s: float, ledger: Outbox) -> None:
        self.broker = broker
        self.claims = claims
        self.resend_after_s = resend_after_s
        self.ledger = ledger
        self.venue = broker.venue
        self.written: list[str] = []
        """The ledger outbox's fields written so far, for the caller to flush."""

    def note(self, request: OrderRequest, state: str, detail: str = "", outcome: Outcome | None = None) -> None:
        """Put ``request``'s new state in the ledger's outbox."""
        name = f"{request.client_order_id}:{state}"
        self.ledger.put({name: json.dumps(ledger_record(self.venue, request, state, detail, outcome))})
        self.written.append(name)

    def place(
        self, position: Position, orders: list[PlacedOrder], claim_ttl_s: int, past_deadline: int | None = None
    ) -> list[tuple[str, str]]:
        """Send ``orders`` (one position's, in the machine's order), book their outcomes into ``position`` and
        the records; return the events beyond ``order`` and ``fill``: ``rejected``, ``mismatch``.

        Orders of the candle ``past_deadline`` (its deadline has passed) do not go out now: one sent before is
        looked up and booked as the venue has it, one never sent is ``not_sent``."""
        events: list[tuple[str, str]] = []
        entries: dict[int, Outcome] = {}
        for placed in orders:
            request = placed.request
            if placed.trade is not None and int(placed.trade[machine.T_ENTRY_BAR]) in entries:
                request = self._close_of_entry(position, placed, entries[int(placed.trade[machine.T_ENTRY_BAR])])
                if request is None:
                    continue
            outcome = self._settle(request, claim_ttl_s, send=request.ts != past_deadline)
            placed.request, placed.outcome = request, outcome
            if outcome.executed <= 0:
                events.append(self._rejected(request, outcome))
            if placed.trade is None:
                entries[request.ts] = outcome
                self._book_entry(position, placed, outcome)
            else:
                events += self._book_close(position, placed, outcome)
        return events

    def _settle(self, request: OrderRequest, claim_ttl_s: int, send: bool) -> Outcome:
        """Send ``request`` if this attempt claims it first, else find out what became of it; a final outcome."""
        if send and self.claims.claim(request, claim_ttl_s):
            self.note(request, "sent")
            outcome = self.broker.submit(request)
        elif not send and not self.claims.claimed(request):
            outcome = _not_sent(request, "its candle's deadline passed before it was sent")
        else:
            try:
                found = self.broker.lookup(request.client_order_id, request.symbol)
            except ccxt.BaseError as error:
                wait = error.wait_s if isinstance(error, RateLimited) else SETTLE_RETRY_S
                raise OrderUnsettled(request.client_order_id, f"the venue could not be asked: {error}", wait) from None
            if found is not None:
                outcome = found
            else:
                age = self.claims.age_s(request, claim_ttl_s)
                if age < self.resend_after_s:
                    raise OrderUnsettled(
                        request.client_order_id,
                        f"claimed {age:.1f} s ago and not on the venue: the attempt that claimed it may still send it",
                        min(self.resend_after_s - age, SETTLE_RETRY_S * 5),
                    )
                if not send:
                    return self._noted(
                        _not_sent(request, f"claimed {age:.0f} s ago, never booked, past its deadline"), request
                    )
                if not self.claims.retake(request, claim_ttl_s, age):
                    raise OrderUnsettled(request.client_order_id, "another attempt is sending it")
                log.warning("order %s claimed %.0f s ago was never booked: sending it", request.client_order_id, age)
                self.note(request, "resent", f"claimed {age:.0f} s ago and never booked")
                outcome = self.broker.submit(request)
        if outcome.kind is OutcomeKind.NOT_SENT and outcome.retry_after_s is not None:
            self.claims.release(request)  # held back (the rate limit, the clock): never sent, so the retry may send it
            raise OrderUnsettled(request.client_order_id, outcome.reason, outcome.retry_after_s)
        self._noted(outcome, request)
        if outcome.kind in (OutcomeKind.UNKNOWN, OutcomeKind.PENDING):
            raise OrderUnsettled(request.client_order_id, f"{outcome.kind}: {outcome.reason or outcome.venue_status}")
        return outcome

    def _noted(self, outcome: Outcome, request: OrderRequest) -> Outcome:
        self.note(request, outcome.kind.value, outcome.reason, outcome)
        return outcome

    @staticmethod
    def _close_of_entry(position: Position, placed: PlacedOrder, entry: Outcome) -> OrderRequest | None:
        """The close of a trade whose entry was sent in this same move, as that entry executed: None (nothing to
        sell, and the trade undone) when it executed nothing."""
        trade, request = placed.trade, placed.request
        if entry.executed <= 0:
            position.state[machine.BALANCE] -= trade[machine.T_PNL]  # the trade never happened
            return None
        booked_entry_commission = trade[machine.T_COMMISSION] - request.commission
        machine.rebook_trade(
            position.state,
            trade,
            size=entry.executed,
            entry_price=entry.average_price,
            commission_change=entry.commission - booked_entry_commission,
        )
        return replace(request, size=entry.executed, commission=request.commission * entry.executed / request.size)

    @staticmethod
    def _book_entry(position: Position, placed: PlacedOrder, outcome: Outcome) -> None:
        state, opened = position.state, placed.opened
        still_open = position.side != 0 and int(state[machine.ENTRY_BAR]) == placed.request.ts
        if outcome.executed <= 0:
            placed.opened = None
            if still_open:
                machine.cancel_entry(state)
            return
        if still_open:
            machine.rebook_entry(state, outcome.executed, outcome.average_price, outcome.commission)
        if opened is not None:
            opened.update(
                size=outcome.executed,
                entry_price=outcome.average_price,
                entry_commission=outcome.commission,
            )
            if still_open:
                opened.update(stop=finite_or_none(state[machine.STOP]), target=finite_or_none(state[machine.TARGET]))

    def _book_close(self, position: Position, placed: PlacedOrder, outcome: Outcome) -> list[tuple[str, str]]:
        request, trade = placed.request, placed.trade
        if outcome.executed > 0:
            machine.rebook_trade(
                position.state,
                trade,
                exit_price=outcome.average_price,
                commission_change=outcome.commission - request.commission,
            )
        left = request.size - outcome.executed
        if left <= 0:
            return []
        if self.broker.rules(request.symbol).below_minimums(left, request.price):
            # too small for the venue to take on its own: dust, recorded here and never retried
            log.info("close %s left dust of %g %s", request.client_order_id, left, request.symbol)
            return []
        why = f"{outcome.kind} {outcome.reason or outcome.venue_status}"
        log.error(
            "close %s left %g %s on the venue that the engine counts as closed (%s)",
            request.client_order_id,
            left,
            request.symbol,
            why,
        )
        return [
            event(
                "mismatch",
                {
                    "strategy_id": request.strategy_id,
                    "symbol": request.symbol,
                    "mode": "live",
                    "engine_size": 0.0,
                    "broker_size": left if request.side is OrderSide.SELL else -left,
                    "since": int(time.time() * 1000),
                    "confirmed": True,
                    "reason": f"close {request.client_order_id}: {why}",
                },
            )
        ]

    @staticmethod
    def _rejected(request: OrderRequest, outcome: Outcome) -> tuple[str, str]:
        return event(
            "rejected",
            {
                "client_order_id": request.client_order_id,
                "strategy_id": request.strategy_id,
                "symbol": request.symbol,
                "side": request.side.value,
                "size": request.size,
                "kind": outcome.kind.value,
                "code": outcome.code,
                "reason": outcome.reason or outcome.venue_status,
            },
        )
