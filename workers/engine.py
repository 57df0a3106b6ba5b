"""The live engine's steps, one method per Celery task, and the rules that make them safe to repeat.

``ingest`` applies a tick batch (``ingest.Ingestor``), turns the candles it closed into
``CloseJob``s -- one per timeframe and candle time, carrying every active strategy on
every symbol that closed, so that a minute's closes over many symbols make one chain --
and checks stops of the positions on the symbols that moved. Each job then runs as
``decide`` -> ``execute``:

* ``decide`` runs two steps in one task: ``indicators`` computes the strategies'
  indicators over the Redis working set and keeps the last values the rules need (in
  the process, never in a shared key: chains of consecutive closes can interleave);
  ``evaluate`` steps each position through the close's remaining ticks, runs the rules
  and ``on_signals``, and writes the signal key of that strategy, symbol and candle;
* ``execute`` fills the orders the signals left at the next candle's open, through the
  broker, and marks the close processed (the lockstep feed waits on that).

Every step records in the position what it has done (``evaluated``, ``executed``,
``cursor``), so a redelivered or retried task skips what is done and repeats the rest
with the same client order ids. Work on a close that comes more than
``stale_candles`` periods late is dropped with a log line instead of trading on it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC

import ccxt
import numpy as np
import redis
from pymongo.database import Database

from strategies import position as machine
from strategies.candles import TIMEFRAME_MS
from strategies.domain import LOSS_LIMIT_CODES, LimitBreach, OrderSide, RiskLimit, Side, SkippedEntry
from tickflow.settings import LiveSettings, SettingsError
from tickflow.storage import keys
from tickflow.storage.active import (
    MODES,
    SETTLE_RETRY_S,
    LiveEntry,
    LiveStartRefused,
    OrderUnsettled,
    PositionsHeld,
    PositionsOpen,
)
from tickflow.storage.candle_rows import row_open
from tickflow.storage.equity_history import EquityHistoryRepository
from tickflow.storage.events import event, publish
from tickflow.storage.halt import Halt
from tickflow.storage.order_ledger import OrderLedger
from tickflow.storage.positions import ADOPT, Position
from tickflow.storage.scripts import lua_script
from tickflow.storage.strategies import StrategyNotFound, StrategyRepository
from tickflow.storage.trade_logs import TradeLogRepository
from workers.active import ActiveSet
from workers.archive import Outbox, closed_record, opened_record, outbox_entry
from workers.broker import PaperBroker, venue_broker
from workers.equity import EquityRecorder
from workers.exchange import INSUFFICIENT_BALANCE, ExchangeBroker
from workers.ingest import Close, Ingestor
from workers.orders import OrderClaims, OrderRequest, Outcome, OutcomeKind, client_order_id
from workers.positions import (
    Commit,
    PositionBook,
    PricePath,
    advance,
    exit_reason,
    fill,
    order_pending,
    stream_id,
)
from workers.progress import mark_candles_processed
from workers.reconcile import Reconciled, VenueReconciliation
from workers.runner import (
    Decision,
    LiveStrategy,
    StrategyCatalog,
    Tails,
    decide_many,
    indicator_tails,
    working_sets_at,
)
from workers.ticks import decode_batch
from workers.venue_orders import PlacedOrder, VenueOrders

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 20
"""A commit loses only to another writer of the same position; that many losses in a row is a bug."""
ORDER_NAMES = {machine.NO_ORDER: "none", machine.GO_LONG: "long", machine.GO_SHORT: "short", machine.GO_FLAT: "flat"}


ORDERS_HARD_LIMIT_S = 25
"""The ``orders`` queue's hard time limit (``tasks.time_limits``): the longest an attempt that claims an order lives."""
POSITION_LOCK_S = 30
"""The longest a live position stays locked while its orders go out: past any ``execute`` (hard limit 25 s)."""
BALANCE_REJECTIONS_TO_PAUSE = 3
"""Orders of a live strategy refused in a row for lack of balance (-2010) that pause its entries."""


PENDING_SIGNALS = lua_script("workers", "pending_signals")


class NotReady(Exception):
    """The close before this one has not been executed yet for some position; try again shortly."""


@dataclass(frozen=True)
class Leg:
    """The strategies to run on one symbol's close; ``next_open`` is the candle whose first tick closed it."""

    symbol: str
    next_open: int
    ids: list[str]


@dataclass(frozen=True)
class CloseJob:
    """What a chain carries: ids and times only."""

    timeframe: str
    close: int
    """Open time of the closed candle."""
    seen_ms: int
    """Wall-clock time ingest saw the close, for the staleness check."""
    legs: list[Leg]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> CloseJob:
        return cls(data["timeframe"], data["close"], data["seen_ms"], [Leg(**leg) for leg in data["legs"]])

    @property
    def period(self) -> int:
        return TIMEFRAME_MS[self.timeframe]


@dataclass
class _Change:
    """A position being moved: the commit to store, and the orders to place before storing it."""

    strategy: LiveStrategy
    entry: LiveEntry
    commit: Commit
    orders: list[PlacedOrder] = field(default_factory=list)
    late_candle: int | None = None
    """A candle past its deadline: its orders sent before are settled, none is sent (``VenueOrders.place``)."""

    @property
    def config(self) -> np.ndarray:
        """The state machine's settings for this strategy on this position's symbol."""
        return self.strategy.config(self.commit.position.symbol)


@dataclass
class _Awaiting:
    """The live positions whose close's orders await the venue (``keys.awaiting_venue()``), as ``evaluate`` read
    them, and those of them that trade again in this close."""

    marks: dict[str, dict]
    resumed: dict[str, dict] = field(default_factory=dict)


@dataclass
class _Limits:
    """What one step's moves gather for the risk limits (docs/live-engine.md, "Risk limits")."""

    stops: dict[str, LimitBreach] = field(default_factory=dict)
    """Strategies to stop, by id: one of their accounts tripped a loss limit and is flat."""
    entries: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    """(strategy id, symbol) -> the value and order count of an entry let through in this step, which the
    exposure and order-rate checks of the strategy's other symbols count (they are not stored yet)."""

    def approved(self, strategy_id: str, symbol: str) -> tuple[float, int]:
        """The value and orders of the strategy's entries let through in this step on symbols other than ``symbol``."""
        others = [figures for (sid, sym), figures in self.entries.items() if sid == strategy_id and sym != symbol]
        return sum(value for value, _ in others), sum(orders for _, orders in others)


Move = Callable[[_Change, PricePath], bool]
"""Moves ``change.commit.position`` (in place) given the symbol's price path; False if there is nothing to do."""


class LiveEngine:
    def __init__(self, client: redis.Redis, db: Database, settings: LiveSettings) -> None:
        self.redis = client
        self.db = db
        self.settings = settings
        self.ingestor = Ingestor(client, settings)
        self.book = PositionBook(client, settings.events_length)
        self.catalog = StrategyCatalog(StrategyRepository(db, client), limits=settings.limits)
        self.active = ActiveSet(client, db, settings)
        self.claims = OrderClaims(client)
        self.trade_logs = TradeLogRepository(db)
        self.archive = Outbox(client, keys.trade_outbox(), self.trade_logs.upsert, "trade_logs")
        self.order_ledger = OrderLedger(db)
        self.ledger_outbox = Outbox(client, keys.order_outbox(), self.order_ledger.record, "orders")
        self.equity = EquityRecorder(client, self.book, EquityHistoryRepository(db))
        self._pending = client.register_script(PENDING_SIGNALS)

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, payload: Mapping) -> tuple[list[CloseJob], dict[str, list[str]]]:
        """Apply a tick batch; return the chains to start and the stop holders to check, by symbol."""
        batch = decode_batch(payload)
        applied = self.ingestor.apply(batch)
        if applied.late:
            log.info("ingest: %d late tick(s) counted, not applied", applied.late)
        moved = set(applied.path_symbols)
        pipe = self.redis.pipeline(transaction=False)
        pipe.smembers(keys.stop_holders())
        pipe.hgetall(keys.halt())
        members, halt_fields = pipe.execute()
        halted = Halt.from_fields(halt_fields)
        if halted is not None and halted.flatten:
            self._flatten(moved)
        holders: dict[str, list[str]] = {}
        for member in sorted(members):
            symbol, strategy_id = member.split(" ")
            if symbol in moved:
                holders.setdefault(symbol, []).append(strategy_id)
        return self._jobs(applied.closes), holders

    def _flatten(self, symbols: Iterable[str]) -> None:
        """Halted with ``flatten``: close every active strategy's position on these symbols at their last tick."""
        trading: dict[str, list[str]] = {}
        for strategy_id, entry in self.active.all().items():
            for symbol in entry.symbols:
                trading.setdefault(symbol, []).append(strategy_id)
        for symbol in sorted(symbols):
            if trading.get(symbol):
                try:
                    self._close_at_last_price(symbol, trading[symbol])
                except OrderUnsettled as error:  # the next batch flattens again, and settles it by lookup
                    log.warning("flatten %s: %s", symbol, error)

    def _jobs(self, closes: Sequence[Close]) -> list[CloseJob]:
        pipe = self.redis.pipeline(transaction=False)
        for close in closes:
            pipe.smembers(keys.live_subscribers(close.symbol, close.timeframe))
        grouped: dict[tuple[str, int], list[Leg]] = {}
        unwatched = []
        for close, ids in zip(closes, pipe.execute()):
            if ids:
                leg = Leg(close.symbol, close.next_open, sorted(ids))
                grouped.setdefault((close.timeframe, close.open_time), []).append(leg)
            else:
                unwatched.append((close.symbol, close.timeframe, close.open_time))
        mark_candles_processed(self.redis, unwatched)
        now = int(time.time() * 1000)
        jobs = []
        for (timeframe, close), legs in grouped.items():
            for chunk in _chunks(legs, self.settings.chain_batch):
                jobs.append(CloseJob(timeframe, close, now, chunk))
        return jobs

    def check_stops(self, holders: Mapping[str, Sequence[str]]) -> None:
        """Step the positions that can be stopped out through their symbol's new price-path entries."""

        def move(change: _Change, path: PricePath) -> bool:
            position = change.commit.position
            if position.side == 0:
                return False
            cursor = position.cursor
            self._closed(change, advance(position, path, change.strategy.period, change.config))
            return position.cursor != cursor

        for symbol, ids in holders.items():
            try:
                self._move(symbol, ids, move)
            except OrderUnsettled:  # the stop's close is looked up again when the next batch steps these ticks
                pass

    # -- the chain ---------------------------------------------------------------------------
    #
    # Each step works on all the legs (symbols) of a job at once: one pipeline per kind of
    # read or write, whatever the number of symbols and strategies, because a round trip
    # costs far more than the work on one position.

    def indicators(self, job: CloseJob) -> dict[str, dict[str, Tails]]:
        """Symbol -> strategy id -> tails, for ``evaluate``; indicator values stored for the dashboard."""
        result = {}
        sets = working_sets_at(self.redis, [leg.symbol for leg in job.legs], job.timeframe, job.close)
        pipe = self.redis.pipeline(transaction=False)
        for leg, candles in zip(job.legs, sets):
            strategies = self._strategies(leg.ids)
            if not len(candles) or candles.ts[-1] != job.close:
                log.warning(
                    "indicators: candle %s %s %d is not in the working set; skipped",
                    leg.symbol,
                    job.timeframe,
                    job.close,
                    extra=_fields(job, leg),
                )
                continue
            tails, latest = indicator_tails(list(strategies.values()), candles)
            result[leg.symbol] = tails
            if latest:
                pipe.hset(
                    keys.indicator_values(leg.symbol, job.timeframe),
                    mapping={sid: json.dumps({"t": job.close, "values": values}) for sid, values in latest.items()},
                )
        pipe.execute()
        return result

    def decide(self, job: CloseJob) -> None:
        """``indicators`` then ``evaluate``: what the ``decide`` task runs (see tasks/live.py)."""
        self.evaluate(job, self.indicators(job))

    def evaluate(self, job: CloseJob, tails: Mapping[str, Mapping[str, Tails]]) -> None:
        """Rules and ``on_signals`` for every strategy of the job; raises NotReady if a previous close is pending.

        NotReady is raised before anything is stored, so a retry redoes the whole job; legs a
        retry finds already evaluated are skipped position by position.
        """
        stale = self._stale_legs(job, job.legs)
        decisions = self._decisions(tails)
        signals: dict[str, str] = {}
        limits = _Limits()
        marks = self.redis.hgetall(keys.awaiting_venue())
        awaiting = _Awaiting({name: json.loads(mark) for name, mark in marks.items()})
        groups = []
        for leg in job.legs:
            if stale[leg.symbol]:
                log.warning(
                    "evaluate: dropped stale close %s %s %d (%d strategies)",
                    leg.symbol,
                    job.timeframe,
                    job.close,
                    len(leg.ids),
                    extra=_fields(job, leg),
                )
            groups.append(
                (
                    leg.symbol,
                    leg.ids,
                    self._evaluate_move(
                        job, leg, decisions.get(leg.symbol, {}), stale[leg.symbol], signals, limits, awaiting
                    ),
                )
            )
        self._move_many(groups)
        if awaiting.resumed:
            self._resume(job, awaiting.resumed)
        if signals:
            self.redis.hset(keys.last_signals(), mapping=signals)
        self._stop_by_limits(limits.stops)

    def _decisions(self, tails: Mapping[str, Mapping[str, Tails]]) -> dict[str, dict[str, Decision]]:
        """Symbol -> strategy id -> its rules' decision, from symbol -> strategy id -> tails; one rule
        evaluation per strategy for all the symbols of the job."""
        by_strategy: dict[str, dict[str, Tails]] = {}
        for symbol, per_strategy in tails.items():
            for sid, strategy_tails in per_strategy.items():
                by_strategy.setdefault(sid, {})[symbol] = strategy_tails
        decisions: dict[str, dict[str, Decision]] = {}
        for sid, strategy in self._strategies(by_strategy).items():
            for symbol, decision in decide_many(strategy, by_strategy[sid]).items():
                decisions.setdefault(symbol, {})[sid] = decision
        return decisions

    def _evaluate_move(
        self,
        job: CloseJob,
        leg: Leg,
        decisions: Mapping[str, Decision],
        stale: bool,
        signals: dict[str, str],
        limits: _Limits,
        awaiting: _Awaiting,
    ) -> Move:
        """The move ``evaluate`` makes on each position of one symbol's close (``decisions`` by strategy id).

        A position whose previous close is not executed yet is waited for (``NotReady``), unless that close's
        orders await the venue: then this close passes it by, and the first close after they settle takes it up
        again from its ticks (the closes in between are dropped, as stale ones are)."""

        def move(change: _Change, path: PricePath) -> bool:
            position, strategy = change.commit.position, change.strategy
            if position.evaluated >= job.close:
                return False
            name = f"{strategy.id}:{leg.symbol}"
            mark = awaiting.marks.get(name)
            if position.bar == ADOPT:
                position.bar = job.close
            elif position.bar < job.close:
                if mark is None:
                    raise NotReady(f"{strategy.id} {leg.symbol}: close before {job.close} not executed yet")
                if position.executed < position.evaluated:
                    return False
                position.bar = job.close
            if mark is not None:
                awaiting.resumed[name] = mark
            self._closed(change, advance(position, path, strategy.period, change.config))
            position.evaluated = job.close
            decision = decisions.get(strategy.id)
            if stale or decision is None:
                self._skip_fill(change, job, leg, path)
                return True
            machine.on_signals(
                position.state,
                decision.enter_long,
                decision.exit_long,
                decision.enter_short,
                decision.exit_short,
                *decision.offsets,
                change.config,
            )
            self._check_loss_limits(change, job, decision.close, limits)
            order = ORDER_NAMES[float(position.state[machine.ORDER])]
            signal = json.dumps(
                {
                    "strategy_id": strategy.id,
                    "symbol": leg.symbol,
                    "timeframe": job.timeframe,
                    "t": job.close,
                    "order": order,
                    "pending": order_pending(position),
                    **decision.to_dict(),
                }
            )
            # Kept until no task can act on this close (``execute`` cancels the order of a signal gone by then).
            retention = self.settings.close_retention_s(strategy.period)
            change.commit.extras.append((keys.signal(strategy.id, leg.symbol, job.close), signal, retention))
            signals[f"{strategy.id}:{leg.symbol}"] = signal
            if order_pending(position):
                change.commit.events.append(("signal", signal))
            else:
                self._skip_fill(change, job, leg, path)
            return True

        return move

    def execute(self, job: CloseJob) -> None:
        """Fill the pending orders of the job's signals at the next open; then mark each close processed.

        A position whose signal key is gone (it was never written -- the close was dropped as
        stale, the position was not moved -- or it expired or was evicted since) is looked at
        too: if its close was evaluated but not executed, its order is cancelled rather than
        left to block the strategy's later closes (``NotReady``) for good.
        """
        wanted = [(leg, sid) for leg in job.legs for sid in leg.ids]
        found = self._pending(keys=[keys.signal(sid, leg.symbol, job.close) for leg, sid in wanted]) if wanted else []
        pending: dict[str, list[str]] = {}
        lost: dict[str, set[str]] = {}
        for index in map(int, found):
            leg, sid = wanted[abs(index) - 1]
            pending.setdefault(leg.symbol, []).append(sid)
            if index < 0:
                lost.setdefault(leg.symbol, set()).add(sid)
        legs = [leg for leg in job.legs if leg.symbol in pending]
        if legs:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(keys.halt())
            pipe.hkeys(keys.entry_pauses())
            halt_fields, paused_ids = pipe.execute()
            halted, paused = Halt.from_fields(halt_fields) is not None, set(paused_ids)
            stale = self._stale_legs(job, legs)
            opens = self._open_prices([(leg.symbol, leg.next_open) for leg in legs], job.timeframe)
            limits = _Limits()
            groups = []
            for leg, open_price in zip(legs, opens):
                if stale[leg.symbol]:
                    log.warning(
                        "execute: dropped stale orders of close %s %s %d (%d strategies)",
                        leg.symbol,
                        job.timeframe,
                        job.close,
                        len(pending[leg.symbol]),
                        extra=_fields(job, leg),
                    )
                move = self._execute_move(
                    job, leg, stale[leg.symbol], open_price, lost.get(leg.symbol, set()), halted, paused, limits
                )
                groups.append((leg.symbol, pending[leg.symbol], move))
            unflushed = self._move_many(groups, flush=False, on_unsettled=lambda held: self._await_venue(job, held))
            self._stop_by_limits(limits.stops)
        else:
            unflushed = []
        mark_candles_processed(self.redis, [(leg.symbol, job.timeframe, job.close) for leg in job.legs])
        # The records are in the Redis outbox already (committed with the positions); copying them to
        # MongoDB after the mark keeps that write off the close's critical path, as is the equity history.
        self.archive.flush(unflushed)
        self.equity.record([sid for leg in job.legs for sid in leg.ids], job.timeframe, job.close)

    def _execute_move(
        self,
        job: CloseJob,
        leg: Leg,
        stale: bool,
        open_price: float | None,
        lost: set[str],
        halted: bool,
        paused: set[str],
        limits: _Limits,
    ) -> Move:
        """The move ``execute`` makes on each position of one symbol's close; ``lost``: the strategy ids
        whose signal key is gone; ``halted``: entries are blocked (``tickflow.storage.halt``); ``paused``: the
        strategies whose entries are paused (``keys.entry_pauses()``)."""

        def move(change: _Change, path: PricePath) -> bool:
            position, strategy = change.commit.position, change.strategy
            if position.executed >= job.close or position.evaluated < job.close:
                return False
            gone = strategy.id in lost
            if gone:
                log.warning(
                    "execute: the signal of close %s %s %d of %s is gone; its order is cancelled",
                    leg.symbol,
                    job.timeframe,
                    job.close,
                    strategy.id,
                    extra={**_fields(job, leg), "strategy_id": strategy.id},
                )
            # An order an earlier attempt sent is settled even past the deadline: the venue may have executed it.
            late = stale and not gone and open_price is not None and self._sent_before(change, leg.next_open)
            change.late_candle = leg.next_open if late else None
            if (stale and not late) or open_price is None or gone:
                position.state[machine.ORDER] = machine.NO_ORDER  # the order is cancelled
            else:
                if late:  # its orders passed the gates when they went out; none of them goes out now
                    log.warning(
                        "execute: close %s %s %d of %s is past its deadline: its orders sent are looked up",
                        leg.symbol,
                        job.timeframe,
                        job.close,
                        strategy.id,
                        extra={**_fields(job, leg), "strategy_id": strategy.id},
                    )
                elif (halted or strategy.id in paused) and _enters(position):
                    self._block_entry(change, job, "halt" if halted else "broker")
                else:
                    self._check_entry_limits(change, job, leg.next_open, open_price, limits)
                filled = fill(position, leg.next_open, open_price, change.config)
                self._closed(change, filled.closed)
                if filled.opened:
                    self._opened(change)
                if filled.skipped is not None:
                    self._skipped(change, job, filled.skipped)
                if position.state[machine.LIMIT] and not position.side:  # a loss limit's exit filled
                    limits.stops[strategy.id] = self._breach(change)
            position.executed = job.close
            position.bar = leg.next_open
            self._closed(change, advance(position, path, strategy.period, change.config))
            return True

        return move

    def _await_venue(self, job: CloseJob, waiting: Sequence[tuple[Position, OrderUnsettled]]) -> None:
        """Mark the positions of ``job`` whose orders wait on the venue (not just on another task, which settles in
        under ``SETTLE_RETRY_S``), so that later closes pass them by rather than wait (``evaluate``); a ``broker``
        event and a log line say so, once per close."""
        now = int(time.time() * 1000)
        marks = {
            f"{position.strategy_id}:{position.symbol}": {
                "strategy_id": position.strategy_id,
                "symbol": position.symbol,
                "close": job.close,
                "since": now,
                "client_order_id": error.client_order_id,
                "reason": error.reason,
            }
            for position, error in waiting
            if error.retry_after_s >= SETTLE_RETRY_S
        }
        if not marks:
            return
        pipe = self.redis.pipeline(transaction=False)
        for name, mark in marks.items():
            pipe.hsetnx(keys.awaiting_venue(), name, json.dumps(mark))
        new = [marks[name] for name, added in zip(marks, pipe.execute()) if added]
        for mark in new:
            publish(pipe, "broker", {"action": "awaiting", **mark}, self.settings.events_length)
            log.warning(
                "close %s %d of %s awaits the venue (%s): later closes pass this position by until it settles",
                mark["symbol"],
                job.close,
                mark["strategy_id"],
                mark["reason"],
                extra={"timeframe": job.timeframe, "close": job.close, "strategy_id": mark["strategy_id"]},
            )
        if new:
            pipe.execute()

    def _resume(self, job: CloseJob, resumed: Mapping[str, dict]) -> None:
        """Clear the marks of positions trading again (``_await_venue``), with a ``broker`` event each."""
        now = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hdel(keys.awaiting_venue(), *resumed)
        for mark in resumed.values():
            passed = max((job.close - mark["close"]) // job.period - 1, 0)
            data = {**mark, "action": "resumed", "since": now, "awaited_since": mark["since"], "passed": passed}
            publish(pipe, "broker", data, self.settings.events_length)
            log.info(
                "%s trades again from close %d: the venue settled close %d's orders; %d close(s) passed it by",
                mark["symbol"],
                job.close,
                mark["close"],
                passed,
                extra={"strategy_id": mark["strategy_id"], "symbol": mark["symbol"]},
            )
        pipe.execute()

    def _sent_before(self, change: _Change, candle_open_ms: int) -> bool:
        """Whether an earlier attempt claimed (and so may have sent) a venue order of this position's candle."""
        position = change.commit.position
        return change.entry.mode == "live" and self.claims.any_claimed(
            position.strategy_id, position.symbol, candle_open_ms
        )

    def _block_entry(
        self, change: _Change, job: CloseJob, limit: str, figures: Mapping[str, float] | None = None
    ) -> None:
        """Keep the position from growing: an entry order is cancelled, a reversal only exits; a ``limit`` event
        and a log line say what ``limit`` blocked, and with ``figures`` (``value``, ``threshold``) by how much."""
        position, strategy_id = change.commit.position, change.strategy.id
        order = ORDER_NAMES[float(position.state[machine.ORDER])]
        action = "flat" if position.side else "cancelled"
        position.state[machine.ORDER] = machine.GO_FLAT if position.side else machine.NO_ORDER
        data = {"strategy_id": strategy_id, "symbol": position.symbol, "timeframe": job.timeframe, "t": job.close}
        change.commit.events.append(
            event("limit", {**data, "limit": limit, "order": order, "action": action, **(figures or {})})
        )
        log.warning(
            "execute: %s entry blocked by %s%s (%s)",
            order,
            limit,
            f": {figures['value']:g} against a limit of {figures['threshold']:g}" if figures else "",
            "the position is closed instead" if action == "flat" else "order cancelled",
            extra={
                "strategy_id": strategy_id,
                "symbol": position.symbol,
                "timeframe": job.timeframe,
                "close": job.close,
            },
        )

    def _skipped(self, change: _Change, job: CloseJob, skipped: SkippedEntry) -> None:
        """A ``skipped`` event and a log line for an entry the sizing would not place, saying why."""
        strategy_id, symbol = change.strategy.id, change.commit.position.symbol
        data = {"strategy_id": strategy_id, "symbol": symbol, "timeframe": job.timeframe, **skipped.to_dict()}
        change.commit.events.append(event("skipped", data))
        log.warning(
            "execute: %s entry skipped, %s: at %g with %g of equity",
            skipped.side.label,
            skipped.reason.text,
            skipped.price,
            skipped.equity,
            extra={"strategy_id": strategy_id, "symbol": symbol, "timeframe": job.timeframe, "close": job.close},
        )

    # -- risk limits (docs/live-engine.md, "Risk limits") -----------------------------------

    def _check_loss_limits(self, change: _Change, job: CloseJob, close_price: float, limits: _Limits) -> None:
        """The machine's ``on_close`` at this close: a loss limit tripping here is a ``limit`` event and a warning,
        and turns the order into an exit; an account that has tripped one and is flat gets its strategy stopped."""
        position, strategy_id = change.commit.position, change.strategy.id
        tripped = bool(position.state[machine.LIMIT])
        machine.on_close(position.state, job.close, job.close // machine.DAY_MS, close_price, change.config)
        if not position.state[machine.LIMIT]:
            return
        breach = self._breach(change)
        if not tripped:
            fields = {"strategy_id": strategy_id, "symbol": position.symbol, "timeframe": job.timeframe}
            figures = {"value": breach.loss, "threshold": breach.threshold, "equity": breach.equity,
                       "reference": breach.reference}  # fmt: skip
            data = {**fields, "t": job.close, "limit": breach.limit.value, "action": "stop", **figures}
            change.commit.events.append(event("limit", data))
            log.warning("evaluate: %s; the strategy stops", breach.text, extra={**fields, "close": job.close})
        if not position.side:
            limits.stops[strategy_id] = breach

    @staticmethod
    def _breach(change: _Change) -> LimitBreach:
        state = change.commit.position.state
        breach = machine.limit_breach(state, int(state[machine.LIMIT_BAR]), change.config)
        assert breach is not None, "only asked of an account that tripped a loss limit"
        return breach

    def _check_entry_limits(
        self, change: _Change, job: CloseJob, candle: int, open_price: float, limits: _Limits
    ) -> None:
        """Block (``_block_entry``) the entry the position's order would open if it breaks a limit only live can
        check: ``max_orders_per_minute``, the strategy's orders sent in the last 60 s, or ``max_total_exposure``,
        the value of all its positions with this one. Exits are never blocked."""
        position, strategy = change.commit.position, change.strategy
        cap, rate = strategy.limits.max_total_exposure, strategy.limits.max_orders_per_minute
        if (cap is None and rate is None) or not _enters(position):
            return
        trial = position.copy()
        filled = fill(trial, candle, open_price, change.config)
        if not filled.opened:  # not placed anyway: the fill reports why
            return
        value = float(trial.state[machine.SIZE] * trial.state[machine.ENTRY_PRICE])
        other_value, other_orders = limits.approved(strategy.id, position.symbol)
        if rate is not None:
            since = int(time.time() * 1000) - 60_000
            sent = self.redis.zcount(keys.recent_orders(strategy.id), since, "+inf") + other_orders
            if sent >= rate:
                self._block_entry(change, job, RiskLimit.MAX_ORDERS_PER_MINUTE, {"value": sent, "threshold": rate})
                return
        if cap is not None:
            exposure = self._exposure(change) + other_value + value
            if exposure > cap:
                self._block_entry(change, job, RiskLimit.MAX_TOTAL_EXPOSURE, {"value": exposure, "threshold": cap})
                return
        limits.entries[(strategy.id, position.symbol)] = (value, len(filled.closed) + 1)

    def _exposure(self, change: _Change) -> float:
        """The value of the strategy's positions on its other symbols, each marked at its last tick."""
        position, entry = change.commit.position, change.entry
        others = [symbol for symbol in entry.symbols if symbol != position.symbol]
        held = [p for p in self.book.load_many([(position.strategy_id, s, entry.cash) for s in others]) if p.side]
        if not held:
            return 0.0
        prices = self.redis.pipeline(transaction=False)
        for held_position in held:
            prices.hget(keys.last_tick(held_position.symbol), "p")
        return sum(
            float(p.state[machine.SIZE]) * (float(price) if price is not None else float(p.state[machine.ENTRY_PRICE]))
            for p, price in zip(held, prices.execute())
        )

    def _stop_by_limits(self, stops: Mapping[str, LimitBreach]) -> None:
        """Stop each strategy a loss limit tripped, closing its other positions at their last price."""
        for strategy_id, breach in stops.items():
            self.stop(strategy_id, close_positions=True, stopped_by=breach)

    def _skip_fill(self, change: _Change, job: CloseJob, leg: Leg, path: PricePath) -> None:
        """Nothing to fill at the next open: the close counts as executed and stops may step into the next candle."""
        position, strategy = change.commit.position, change.strategy
        position.executed = job.close
        position.bar = leg.next_open
        self._closed(change, advance(position, path, strategy.period, change.config))

    def _stale_legs(self, job: CloseJob, legs: Sequence[Leg]) -> dict[str, bool]:
        """Per symbol: whether the market (its latest tick) or the clock moved on too far since the close."""
        limit = self.settings.stale_candles * job.period
        clock_lag = time.time() * 1000 - job.seen_ms
        pipe = self.redis.pipeline(transaction=False)
        for leg in legs:
            pipe.hget(keys.last_tick(leg.symbol), "ts")
        stale = {}
        for leg, last_tick in zip(legs, pipe.execute()):
            market_lag = int(last_tick) - leg.next_open if last_tick is not None else 0
            stale[leg.symbol] = max(market_lag, clock_lag) > limit
        return stale

    def _open_prices(self, wanted: Sequence[tuple[str, int]], timeframe: str) -> list[float | None]:
        """The open of each (symbol, candle opened at ms): the forming candle or a recently closed one."""
        pipe = self.redis.pipeline(transaction=False)
        for symbol, _ in wanted:
            pipe.hmget(keys.current_candle(symbol, timeframe), ["t", "o"])
            pipe.lrange(keys.closed_candles(symbol, timeframe), -50, -1)
        replies = pipe.execute()
        prices: list[float | None] = []
        for i, (symbol, candle_open_ms) in enumerate(wanted):
            forming, closed = replies[2 * i], replies[2 * i + 1]
            price = None
            if forming[0] is not None and int(forming[0]) == candle_open_ms:
                price = float(forming[1])
            else:
                for row in reversed(closed):
                    t, o = row_open(row)
                    if t == candle_open_ms:
                        price = o
                        break
            if price is None:
                log.warning(
                    "no candle %s %s opened at %d to fill at",
                    symbol,
                    timeframe,
                    candle_open_ms,
                    extra={"symbol": symbol, "timeframe": timeframe},
                )
            prices.append(price)
        return prices

    # -- starting and stopping strategies ----------------------------------------------------

    def start(self, strategy_id: str, mode: str, cash: float) -> LiveEntry:
        """Make a stored strategy live.

        Flat on every symbol, it starts a new run: each account holds ``cash`` again, whatever an
        earlier run left. Holding positions, it resumes its run, which must then keep its cash:
        a start with other cash raises ``PositionsOpen`` (stop it with ``close_positions`` first).
        Either way its accounts rejoin at the current ticks.
        """
        strategy = self.catalog.get(strategy_id)
        if mode not in MODES:
            raise ValueError(f"unknown trading mode {mode!r}; one of {', '.join(MODES)}")
        held = [
            p.symbol for p in self.book.load_many([(strategy_id, s, cash) for s in strategy.spec.symbols]) if p.side
        ]
        run = self.active.last_run(strategy_id) or {}
        if held and float(run.get("cash", cash)) != cash:
            raise PositionsOpen(strategy_id, held, float(run["cash"]))
        if held and run.get("mode", mode) != mode:  # a paper position is not on the venue, nor a venue one on paper
            raise LiveStartRefused(
                f"it holds positions on {', '.join(held)} from its {run['mode']} run: start it {run['mode']} again, "
                "or stop it with close_positions first"
            )
        if mode == "live":
            self._check_venue(strategy, cash if not held else 0.0)
        resumed = bool(held) and run.get("started_at") is not None
        since = int(run["started_at"].replace(tzinfo=UTC).timestamp() * 1000) if resumed else int(time.time() * 1000)
        entry = self.active.start(strategy, mode, cash, since)
        if mode == "live":
            self.redis.delete(keys.venue_reconciled())  # its first order waits for a pass that knows it

        def rejoin(change: _Change, path: PricePath) -> bool:
            position = change.commit.position
            if position.version == 0:
                return False
            if not held:  # a new run: the account starts again from its cash
                position.state = machine.new_state(cash)
            position.bar = ADOPT
            position.cursor = path.entry_id(-1) if len(path) else position.cursor
            return True

        for symbol in entry.symbols:
            self._move(symbol, [strategy_id], rejoin)
        log.info(
            "started %s trading %s on %s",
            mode,
            ",".join(entry.symbols),
            strategy.spec.timeframe,
            extra={"strategy_id": strategy_id},
        )
        return entry

    def reconcile_venue(self) -> Reconciled | None:
        """Reconcile the live strategies with the venue (``workers.reconcile``) now; None when none trades live or
        another process is running a pass."""
        live = self._live_entries()
        return self._reconciliation(venue_broker()).run_locked(live) if live else None

    def forget_reconciliation(self) -> bool:
        """Make the next live order wait for a new venue reconciliation (a worker started); False, and nothing
        done, when no strategy trades live."""
        if not self._live_entries():
            return False
        self.redis.delete(keys.venue_reconciled())
        return True

    def _live_entries(self) -> dict[str, LiveEntry]:
        return {sid: entry for sid, entry in self.active.all().items() if entry.mode == "live"}

    def _reconciliation(self, broker: ExchangeBroker) -> VenueReconciliation:
        return VenueReconciliation(
            self.redis,
            broker,
            self.order_ledger,
            self.ledger_outbox,
            self.trade_logs,
            self.archive,
            self.book,
            self.settings,
        )

    def _check_venue(self, strategy: LiveStrategy, cash: float) -> None:
        """Refuse (``LiveStartRefused``) a live start the venue could not carry: a symbol it does not trade, entries
        short on a spot venue, or ``cash`` per symbol beyond the free quote balance that other live strategies have
        not reserved (each of their accounts holds its run's cash)."""
        spec = strategy.spec
        if "enter_short" in spec.rules:
            raise LiveStartRefused(
                f"{spec.name} has an enter_short rule: a spot venue cannot sell what it does not hold"
            )
        try:
            broker = venue_broker()
            late_s = broker.settings.recv_window_ms / 1000 + broker.settings.timeout_s + ORDERS_HARD_LIMIT_S
            if late_s >= self.settings.order_resend_after_s:
                raise LiveStartRefused(
                    f"a request may still reach the venue {late_s:g} s after it was sent (recvWindow, timeout and "
                    f"the orders queue's time limit), past the {self.settings.order_resend_after_s:g} s after which "
                    "an order never booked is sent again: lower TICKFLOW_EXCHANGE_RECV_WINDOW_MS or ..._TIMEOUT_S"
                )
            quotes = {}
            for symbol in spec.symbols:
                rules = broker.rules(symbol)
                if not rules.trading:
                    raise LiveStartRefused(f"{symbol} is not trading on {broker.settings.exchange} now")
                quotes[symbol] = rules.quote
            if cash <= 0:
                return
            reserved: dict[str, float] = {}
            for sid, entry in self.active.all().items():
                if entry.mode == "live" and sid != strategy.id:
                    for symbol in entry.symbols:
                        quote = broker.rules(symbol).quote
                        reserved[quote] = reserved.get(quote, 0.0) + entry.cash
            free = broker.free_balances()
        except (ValueError, SettingsError) as error:
            raise LiveStartRefused(f"cannot trade live: {error}") from None
        except ccxt.BaseError as error:
            raise LiveStartRefused(f"the venue could not be asked: {type(error).__name__}: {error}") from None
        for quote in sorted(set(quotes.values())):
            needed = cash * sum(1 for q in quotes.values() if q == quote)
            available = free.get(quote, 0.0) - reserved.get(quote, 0.0)
            if needed > available:
                raise LiveStartRefused(
                    f"cash {cash:g} on {len(spec.symbols)} symbol(s) needs {needed:g} {quote} free; the account has "
                    f"{free.get(quote, 0.0):g} free, {reserved.get(quote, 0.0):g} of it held by other live strategies"
                )

    def stop(self, strategy_id: str, close_positions: bool, stopped_by: LimitBreach | None = None) -> LiveEntry | None:
        """Take a strategy out of the active set, first closing its positions at the last price if asked.

        Holding a position, it can only stop with ``close_positions`` (else ``PositionsHeld``): a stopped
        strategy gets no closes and no stop checks, so a position it kept would be left unmanaged. To stop
        trading but keep positions under their stops, halt instead (``tickflow.storage.halt``).
        ``stopped_by``: the loss limit that stops it; its positions close with exit reason ``limit``, and
        the limit is recorded with the run (``ActiveSet.stop``).
        """
        entry = self.active.get(strategy_id)
        if entry is not None and close_positions:
            for symbol in entry.symbols:
                self._close_at_last_price(symbol, [strategy_id], stopped_by)
        elif entry is not None:
            wanted = [(strategy_id, symbol, entry.cash) for symbol in entry.symbols]
            held = [position.symbol for position in self.book.load_many(wanted) if position.side]
            if held:
                raise PositionsHeld(strategy_id, held)
        if stopped_by is not None:
            log.warning("stopped by %s", stopped_by.text, extra={"strategy_id": strategy_id})
            stopped = {**stopped_by.to_dict(), "stopped_at": int(time.time() * 1000)}
            return self.active.stop(strategy_id, stopped)
        log.info(
            "stopped%s",
            ", positions closed at the last price" if close_positions else "",
            extra={"strategy_id": strategy_id},
        )
        return self.active.stop(strategy_id)

    def _close_at_last_price(
        self, symbol: str, strategy_ids: Sequence[str], stopped_by: LimitBreach | None = None
    ) -> None:
        ts, price = self.redis.hmget(keys.last_tick(symbol), ["ts", "p"])
        if ts is None:
            return

        def close(change: _Change, path: PricePath) -> bool:
            position, strategy = change.commit.position, change.strategy
            if position.side == 0:
                return False
            bar = int(ts) - int(ts) % strategy.period
            if stopped_by is not None and not position.state[machine.LIMIT]:  # so the exit says ``limit``
                position.state[machine.LIMIT] = LOSS_LIMIT_CODES[stopped_by.limit]
            position.state[machine.ORDER] = machine.GO_FLAT
            entry_bar, first = int(position.state[machine.ENTRY_BAR]), len(change.orders)
            self._closed(change, fill(position, bar, float(price), change.config).closed)
            # A position has one such close, named by its entry rather than by the tick's candle: a stop retried
            # in a later candle (its first answer lost) must find the same claim and look the order up.
            for placed in change.orders[first:]:
                stable = client_order_id(position.strategy_id, position.symbol, entry_bar, placed.request.reason)
                placed.request = replace(placed.request, client_order_id=stable)
            return True

        self._move(symbol, strategy_ids, close)

    # -- moving positions --------------------------------------------------------------------

    def _strategies(self, ids: Iterable[str]) -> dict[str, LiveStrategy]:
        found = {}
        for sid in ids:
            try:
                found[sid] = self.catalog.get(sid)
            except StrategyNotFound:
                log.warning("strategy %s is active but no longer exists; skipped", sid, extra={"strategy_id": sid})
        return found

    def _move(self, symbol: str, ids: Sequence[str], move: Move) -> None:
        """``_move_many`` for one symbol."""
        self._move_many([(symbol, ids, move)])

    def _move_many(
        self,
        groups: Sequence[tuple[str, Sequence[str], Move]],
        flush: bool = True,
        on_unsettled: Callable[[list[tuple[Position, OrderUnsettled]]], object] | None = None,
    ) -> list[str]:
        """Load, move, place orders for and commit the positions of each (symbol, strategy ids, move),
        until all commit; every read and write is one pipeline for all groups.

        Only active strategies are moved. A commit that lost to another writer is redone from
        what that writer stored. The trade records committed go to MongoDB at once, or, with
        ``flush=False``, are returned (outbox fields) for the caller to ``archive.flush`` later.
        A position whose venue order is not settled yet is not stored (``on_unsettled`` is told, with
        each such position and why): once the others are, the first such ``OrderUnsettled`` is raised
        (their records reach MongoDB through the outbox drain).
        """
        unflushed: list[str] = []
        unsettled: list[OrderUnsettled] = []
        every = list(dict.fromkeys(sid for _, ids, _ in groups for sid in ids))
        entries = self.active.entries(every)
        strategies = self._strategies(entries)
        moves = {symbol: move for symbol, _, move in groups}
        pending = [(symbol, sid) for symbol, ids, _ in groups for sid in ids if sid in strategies]
        for _ in range(COMMIT_ATTEMPTS):
            if not pending:
                if unsettled:
                    raise unsettled[0]
                return unflushed
            positions = self.book.load_many([(sid, symbol, entries[sid].cash) for symbol, sid in pending])
            oldest: dict[str, str] = {}
            for position in positions:
                cursor = oldest.get(position.symbol)
                if cursor is None or stream_id(position.cursor) < stream_id(cursor):
                    oldest[position.symbol] = position.cursor
            paths = self.book.paths(oldest)
            changes = []
            for position in positions:
                sid = position.strategy_id
                change = _Change(strategies[sid], entries[sid], Commit(position, strategies[sid].has_stops))
                if moves[position.symbol](change, paths[position.symbol]):
                    changes.append(change)
            placed, held = self._place(changes)
            waiting = [(change.commit.position, error) for change, error in zip(changes, placed) if error is not None]
            unsettled += [error for _, error in waiting]
            if waiting and on_unsettled is not None:
                on_unsettled(waiting)
            changes = [change for change, error in zip(changes, placed) if error is None]
            try:
                stored = self.book.commit_many([change.commit for change in changes])
            finally:
                if held:
                    self.redis.delete(*held)
            names = [name for change, ok in zip(changes, stored) if ok for name, _ in change.commit.outbox]
            if flush:
                self.archive.flush(names)
            else:
                unflushed += names
            pending = [
                (change.commit.position.symbol, change.commit.position.strategy_id)
                for change, ok in zip(changes, stored)
                if not ok
            ]
        raise RuntimeError(f"positions {pending} kept changing under {COMMIT_ATTEMPTS} attempts")

    def _place(self, changes: Sequence[_Change]) -> tuple[list[OrderUnsettled | None], list[str]]:
        """Send the changes' orders, each at most once (claimed first); record their trades, order and fill events.

        Paper orders go in one round trip each for claims and fills. Live orders go one position at a
        time to the venue, which books what it executed into the position (``workers.venue_orders``),
        once the venue reconciliation has run (``workers.reconcile``); their ledger records go to MongoDB
        before the positions are stored.
        Returns, per change, the ``OrderUnsettled`` of a venue order whose fate is not known yet (the
        change must not be stored), else None; and the position locks held, to release once the changes are
        committed. A live position is locked while its orders go out and its move is stored, and its orders go
        out only if it is still the version the move started from: two tasks moving it at once (a stop on a
        tick and a close's exit) would otherwise each send a sell, and only one could be booked.
        """
        paper = [(change, placed) for change in changes if change.entry.mode == "paper" for placed in change.orders]
        if paper:
            self._place_paper(paper)
        errors: list[OrderUnsettled | None] = [None] * len(changes)
        held: list[str] = []
        live = [i for i, change in enumerate(changes) if change.entry.mode != "paper" and change.orders]
        if live:
            spent_by = time.monotonic() + self.settings.venue_time_s
            venue = None
            try:
                broker = venue_broker()
                self._reconciliation(broker).ensure(self._live_entries)
                venue = VenueOrders(broker, self.claims, self.settings.order_resend_after_s, self.ledger_outbox)
            except (ValueError, SettingsError) as unusable:  # the exchange settings: nothing can go out
                waiting = OrderUnsettled("", f"cannot trade on the venue: {unusable}", SETTLE_RETRY_S * 5)
                log.error("%s", waiting.reason)
            except OrderUnsettled as unsettled:
                waiting = unsettled
                log.warning("%s", waiting.reason)
            if venue is None:
                for i in live:
                    errors[i] = waiting
                live = []
            for i in live:
                change = changes[i]
                if time.monotonic() > spent_by:  # killed past its hard limit, this task would book nothing at all
                    errors[i] = OrderUnsettled("", "this execute's time for the venue is spent: its retry sends it", 0)
                    continue
                moving = self._lock_position(change.commit.position)
                if isinstance(moving, OrderUnsettled):
                    errors[i] = moving
                    continue
                held.append(moving)
                ttl_s = self.settings.venue_claim_s(change.strategy.period)
                try:
                    late = change.late_candle
                    change.commit.events.extend(venue.place(change.commit.position, change.orders, ttl_s, late))
                except OrderUnsettled as error:
                    log.warning("%s; the move waits for it", error, extra={"strategy_id": change.strategy.id})
                    errors[i] = error
                else:
                    self._count_balance_rejections(change)
            if venue is not None:
                self.ledger_outbox.flush(venue.written)
        done = [change for change, error in zip(changes, errors) if error is None]
        self._note_sent([(change.strategy, p.request) for change in done for p in change.orders if p.outcome])
        for change in done:
            self._record(change)
        return errors, held

    def _lock_position(self, position: Position) -> str | OrderUnsettled:
        """Lock a live position for sending its orders: the lock's key, or why not now (another task holds it, or
        moved it since this move loaded it: the retry starts again from what it stored)."""
        lock = keys.position_lock(position.strategy_id, position.symbol)
        if not self.redis.set(lock, "1", nx=True, ex=POSITION_LOCK_S):
            return OrderUnsettled("", f"another task is moving {position.symbol}'s position", 0.2)
        stored = self.redis.hget(keys.position(position.strategy_id, position.symbol), "version")
        if int(stored or 0) != position.version:
            self.redis.delete(lock)
            return OrderUnsettled("", f"{position.symbol}'s position moved meanwhile", 0.0)
        return lock

    def _count_balance_rejections(self, change: _Change) -> None:
        """Pause a live strategy's entries once ``BALANCE_REJECTIONS_TO_PAUSE`` of its orders in a row were refused
        for lack of balance: each refusal is final, and the next close would only be refused again. A ``broker``
        event and a log line say so; exits keep trading, and a start lifts the pause."""
        strategy_id = change.strategy.id
        outcomes = [placed.outcome for placed in change.orders if placed.outcome is not None]
        refused = [o for o in outcomes if o.kind is OutcomeKind.REJECTED and o.code == INSUFFICIENT_BALANCE]
        if any(outcome.executed > 0 for outcome in outcomes) and not refused:
            self.redis.hdel(keys.balance_rejections(), strategy_id)
            return
        if not refused:
            return
        count = self.redis.hincrby(keys.balance_rejections(), strategy_id, len(refused))
        if count < BALANCE_REJECTIONS_TO_PAUSE:
            return
        pause = {"since": int(time.time() * 1000), "code": refused[-1].code, "reason": refused[-1].reason}
        if self.redis.hsetnx(keys.entry_pauses(), strategy_id, json.dumps({**pause, "rejections": count})):
            change.commit.events.append(
                event("broker", {"strategy_id": strategy_id, "action": "paused", "rejections": count, **pause})
            )
            log.error(
                "entries paused after %d orders in a row refused for lack of balance (%s); start the strategy "
                "again once the account can carry them",
                count,
                refused[-1].reason,
                extra={"strategy_id": strategy_id},
            )

    def _place_paper(self, placed: Sequence[tuple[_Change, PlacedOrder]]) -> None:
        orders = [p.request for _, p in placed]
        claimed = self.claims.claim_many(
            orders, [self.settings.close_retention_s(change.strategy.period) for change, _ in placed]
        )
        broker = PaperBroker(self.redis)
        for (_, p), first in zip(placed, claimed):
            if not first:  # claimed by an earlier attempt that may have died before sending: the paper broker dedupes
                p.outcome = broker.lookup(p.request.client_order_id) or broker.submit(p.request)
        fresh = [p for (_, p), first in zip(placed, claimed) if first]
        for p, outcome in zip(fresh, broker.submit_many([p.request for p in fresh])):
            p.outcome = outcome

    def _record(self, change: _Change) -> None:
        """The trade records and the ``order`` and ``fill`` events of the change's placed orders."""
        position, timeframe = change.commit.position, change.strategy.spec.timeframe
        for placed in change.orders:
            order, outcome = placed.request, placed.outcome
            if outcome is None:  # not sent: its entry executed nothing, so neither trade happened
                continue
            if placed.opened is not None:
                change.commit.outbox.append(outbox_entry(placed.opened))
            if placed.trade is not None:
                record = closed_record(
                    position.strategy_id, position.symbol, timeframe, change.entry, placed.trade, order.client_order_id
                )
                change.commit.outbox.append(outbox_entry(record))
            change.commit.events.append(event("order", json.loads(order.to_json())))
            fill_ = outcome.fill(order.ts)
            if fill_ is not None:
                venue = {} if change.entry.mode == "paper" else _venue_fields(outcome)
                change.commit.events.append(
                    event(
                        "fill",
                        {
                            **fill_.to_dict(),
                            "client_order_id": order.client_order_id,
                            "strategy_id": order.strategy_id,
                            "symbol": order.symbol,
                            **venue,
                        },
                    )
                )

    def _note_sent(self, placed: Sequence[tuple[LiveStrategy, OrderRequest]]) -> None:
        """Remember the orders of strategies with ``max_orders_per_minute`` for a minute (once per client order id)."""
        now = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        for strategy, order in placed:
            if strategy.limits.max_orders_per_minute is not None:
                key = keys.recent_orders(strategy.id)
                pipe.zadd(key, {order.client_order_id: now}, nx=True)
                pipe.zremrangebyscore(key, "-inf", now - 60_000)
                pipe.expire(key, 120)
        if len(pipe):
            pipe.execute()

    def _closed(self, change: _Change, rows: Sequence[np.ndarray]) -> None:
        """Orders for the trades the machine closed (their records are written once the orders are placed)."""
        position = change.commit.position
        for row in rows:
            side, size, price = (
                Side(int(row[machine.T_SIDE])),
                float(row[machine.T_SIZE]),
                float(row[machine.T_EXIT_PRICE]),
            )
            bar, reason = int(row[machine.T_EXIT_BAR]), exit_reason(row).value
            order = OrderRequest(
                client_order_id(position.strategy_id, position.symbol, bar, reason),
                position.strategy_id,
                position.symbol,
                OrderSide.closing(side),
                size,
                price,
                size * price * float(change.config[machine.COMMISSION]),
                bar,
                reason,
            )
            change.orders.append(PlacedOrder(order, trade=row))

    def _opened(self, change: _Change) -> None:
        """The order and trade record of the position just opened (the record as the machine booked it)."""
        position, strategy, entry = change.commit.position, change.strategy, change.entry
        state, bar = position.state, int(position.state[machine.ENTRY_BAR])
        order = OrderRequest(
            client_order_id(position.strategy_id, position.symbol, bar, "open"),
            position.strategy_id,
            position.symbol,
            OrderSide.opening(Side(position.side)),
            float(state[machine.SIZE]),
            float(state[machine.ENTRY_PRICE]),
            float(state[machine.ENTRY_COMMISSION]),
            bar,
            "entry",
        )
        record = opened_record(position, strategy.spec.timeframe, entry, order.client_order_id)
        change.orders.append(PlacedOrder(order, opened=record))


def _venue_fields(outcome: Outcome) -> dict[str, object]:
    """What a venue's fill adds to a ``fill`` event: its order id and status, the size asked and traded, the fees."""
    return {
        "venue_order_id": outcome.venue_order_id,
        "status": outcome.venue_status,
        "requested": outcome.requested,
        "gross": outcome.gross,
        "fees": [{"asset": asset, "amount": amount} for asset, amount in outcome.fees],
    }


def _enters(position: Position) -> bool:
    """Whether the order the last close left would open a position or reverse one."""
    order = position.state[machine.ORDER]
    return bool((order == machine.GO_LONG or order == machine.GO_SHORT) and order != position.side)


def _fields(job: CloseJob, leg: Leg) -> dict[str, object]:
    """Log fields of one symbol's close (``tickflow.logs``)."""
    return {"symbol": leg.symbol, "timeframe": job.timeframe, "close": job.close}


def _chunks(legs: Sequence[Leg], most: int) -> Iterable[list[Leg]]:
    """Legs grouped so that a chain carries at most ``most`` strategies; a leg is never split, because
    its close may be marked processed only once every strategy on it is executed."""
    chunk: list[Leg] = []
    size = 0
    for leg in legs:
        if chunk and size + len(leg.ids) > most:
            yield chunk
            chunk, size = [], 0
        chunk.append(leg)
        size += len(leg.ids)
    if chunk:
        yield chunk
