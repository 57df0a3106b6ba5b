"""One strategy's account on one symbol, kept in Redis and moved by the backtester's kernels.

A ``Position`` is the ``state`` array of ``strategies.position`` plus the cursors that say
how far it has been moved:

* ``cursor`` -- the last price-path entry (``keys.price_path``) already stepped through
  ``step_ticks``;
* ``bar`` -- the open time of the latest candle whose ticks may be stepped. Ticks of the
  next candle wait until the close before it has been executed, because an order decided
  at that close fills at the next candle's open *before* its range is checked -- the
  order ``step_bar`` runs them in, and what keeps live trading equal to a backtest;
* ``evaluated`` / ``executed`` -- the last close whose signals were read / whose order
  was filled, so that a redelivered task does nothing twice.

The ``bar`` numbers the kernels record are candle open times in ms, so a closed-trade
row's entry and exit bars are its entry and exit candles' times.

Three kinds of work move a position -- ``ingest`` (stops on new ticks), ``evaluate``
(signals at a close) and ``execute`` (fills at the next open) -- possibly at the same
time in different workers. Each reads the hash, computes, and commits with COMMIT_MANY: a
compare-and-set on ``version`` that also records the trades in the outbox and the events
in the stream, all or nothing. A writer that lost the race reads again and recomputes;
since every step is deterministic, the recomputed orders carry the same client order ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import redis

from strategies import position as machine
from strategies.domain import EXIT_REASON_CODES, ExitReason, SkippedEntry
from tickflow.storage import keys
from tickflow.storage.positions import ADOPT, Position, load_position, position_from_fields
from tickflow.storage.scripts import lua_script

_REASONS = {code: reason for reason, code in EXIT_REASON_CODES.items()}

COMMIT_MANY = lua_script("workers", "commit_many")


LOAD_MANY = lua_script("workers", "load_many")
_LOADED = ("state", "cursor", "bar", "evaluated", "executed", "version")

JOINED_PATHS = lua_script("workers", "joined_paths")


def stop_holder(symbol: str, strategy_id: str) -> str:
    """A member of ``keys.stop_holders()``."""
    return f"{symbol} {strategy_id}"


class PricePath:
    """A symbol's price-path entries (``keys.price_path``) after some id, as columns: each entry's stream id
    (millis, sequence), the minute of its ticks, and their first, high and low price.

    Columns, not an object per entry: a close reads a minute of entries of every symbol of its job
    (~2,500 a symbol at 10,000 ticks/s over 100 symbols, measured 2026-12-06). As objects they made tens
    of MB of short-lived Python memory a close, which fragmented a pool process's heap so that its RSS
    crept up close after close (``bench/soak.py``, docs/live-engine.md "Soak").
    """

    WIDTH = 6

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows.reshape(-1, self.WIDTH)

    @classmethod
    def parse(cls, text: str) -> PricePath:
        """From ``JOINED_PATHS``' "millis,sequence,minute,first,high,low,..." (empty: no entries)."""
        return cls(np.fromstring(text, sep=",") if text else np.empty(0))

    def __len__(self) -> int:
        return len(self.rows)

    def entry_id(self, index: int) -> str:
        """The stream id of entry ``index``."""
        millis, sequence = self.rows[index, :2]
        return f"{int(millis)}-{int(sequence)}"

    def start_after(self, cursor: str) -> int:
        """The index of the first entry whose id is after the stream id ``cursor`` (``len(self)``: none)."""
        millis, sequence = stream_id(cursor)
        column = self.rows[:, 0]
        low, high = np.searchsorted(column, millis, "left"), np.searchsorted(column, millis, "right")
        return int(low + np.searchsorted(self.rows[low:high, 1], sequence, "right"))


class PositionBook:
    """Reads positions and price paths from Redis and commits moved positions."""

    def __init__(self, client: redis.Redis, events_length: int) -> None:
        self.redis = client
        self.events_length = events_length
        self._commit_many = client.register_script(COMMIT_MANY)
        self._load_many = client.register_script(LOAD_MANY)
        self._joined_paths = client.register_script(JOINED_PATHS)

    def load(self, strategy_id: str, symbol: str, cash: float) -> Position:
        """The stored position, or a flat new account holding ``cash``."""
        return load_position(self.redis, strategy_id, symbol, cash)

    def load_many(self, wanted: Sequence[tuple[str, str, float]]) -> list[Position]:
        """``load`` for many (strategy id, symbol, cash) at once, in one round trip."""
        if not wanted:
            return []
        rows = json.loads(self._load_many(keys=[keys.position(sid, symbol) for sid, symbol, _ in wanted]))
        return [
            position_from_fields(sid, symbol, cash, {} if row[-1] is False else dict(zip(_LOADED, row)))
            for (sid, symbol, cash), row in zip(wanted, rows)
        ]

    def paths(self, after: Mapping[str, str]) -> dict[str, PricePath]:
        """Price-path entries of each symbol after its entry id (``0-0``: all), in one round trip."""
        symbols = list(after)
        if not symbols:
            return {}
        joined = self._joined_paths(
            keys=[keys.price_path(symbol) for symbol in symbols],
            args=[f"({after[symbol]}" if after[symbol] != "0-0" else "-" for symbol in symbols],
        )
        return {symbol: PricePath.parse(text) for symbol, text in zip(symbols, joined)}

    def commit_many(self, commits: Sequence[Commit]) -> list[bool]:
        """Store each position if nobody changed it since it was loaded; which were stored.

        One script call for all of them (``COMMIT_MANY``): a call per position cost more in
        packing and round trips than the work. Each position is still compared-and-set alone.
        """
        if not commits:
            return []
        position_keys, payload = [], []
        for commit in commits:
            position = commit.position
            holds_stops = commit.has_stops and position.side != 0
            position_keys.append(keys.position(position.strategy_id, position.symbol))
            payload.append(
                [
                    position.version,
                    position.fields(),
                    1 if holds_stops else 0,
                    stop_holder(position.symbol, position.strategy_id),
                    commit.outbox,
                    commit.events,
                    commit.extras,
                ]
            )
        done = self._commit_many(
            keys=[keys.stop_holders(), keys.trade_outbox(), keys.live_events(), *position_keys],
            args=[self.events_length, json.dumps(payload)],
        )
        return [bool(flag) for flag in done]


@dataclass
class Commit:
    """A moved position and what must be stored with it, atomically."""

    position: Position
    has_stops: bool
    outbox: list[tuple[str, str]] = field(default_factory=list)
    """(field, JSON record) for ``keys.trade_outbox()``."""
    events: list[tuple[str, str]] = field(default_factory=list)
    extras: list[tuple[str, str, int]] = field(default_factory=list)
    """(key, value, TTL in s) strings set with it, like signal keys."""


def advance(position: Position, path: PricePath, period: int, config: np.ndarray) -> list[np.ndarray]:
    """Step ``position`` through the price-path entries after its cursor that it may see (``step_ticks``).

    Stops at the first entry of a candle after ``position.bar``: that candle's ticks wait
    for the close before it to be executed (see the module docstring). Returns the rows
    of the trades stops and targets closed.
    """
    closed: list[np.ndarray] = []
    start = path.start_after(position.cursor)
    if start == len(path):
        return closed
    minutes = path.rows[start:, 2].astype(np.int64)
    candles = minutes - minutes % period
    if position.bar == ADOPT:
        position.bar = int(candles[0])
    later = np.flatnonzero(candles > position.bar)
    seen = int(later[0]) if later.size else len(candles)
    if seen == 0:
        return closed
    if position.side != 0:  # ticks close positions, never open one: a flat position only moves its cursor
        trades = np.empty((machine.MAX_TRADES_PER_BAR, machine.TRADE_FIELDS))
        prices = path.rows[start : start + seen, 3:].tolist()
        for candle, (first, high, low) in zip(candles[:seen].tolist(), prices):
            n = machine.step_ticks(position.state, candle, first, high, low, config, trades, 0)
            closed.extend(trades[i].copy() for i in range(n))
    position.cursor = path.entry_id(start + seen - 1)
    return closed


class Filled(NamedTuple):
    """What ``fill`` did."""

    closed: list[np.ndarray]
    """Rows of the trades it closed."""
    opened: bool
    """Whether it opened a position."""
    skipped: SkippedEntry | None
    """The entry it did not place (a size the market does not take), and why."""


def fill(position: Position, candle_open_ms: int, open_price: float, config: np.ndarray) -> Filled:
    """Carry out the order the last close left at the open of the candle opened at ``candle_open_ms``."""
    trades = np.empty((machine.MAX_TRADES_PER_BAR, machine.TRADE_FIELDS))
    state = position.state
    n = machine.fill_order(state, candle_open_ms, open_price, config, trades, 0)
    opened = position.side != 0 and int(state[machine.ENTRY_BAR]) == candle_open_ms
    skipped = None
    if state[machine.SKIPPED]:
        skipped = machine.skipped_entry(
            candle_open_ms, candle_open_ms, state[machine.SKIPPED], open_price, state[machine.BALANCE]
        )
        state[machine.SKIPPED] = 0.0
    return Filled([trades[i].copy() for i in range(n)], opened, skipped)


def warm_kernels() -> None:
    """Load the compiled kernels a close runs (``fill``, ``advance``, ``on_signals``, ``on_close`` and the
    equity recorder's ``equity``), with the argument types the engine passes them.

    numba loads a kernel from its on-disk cache on its first call in each process: 3-15 ms of
    CPU each (measured), which a worker's first closes would otherwise pay; and compiling one the
    cache lacks leaves ~130 MB of LLVM's memory in the process that did it (a pool process in
    ``bench/soak.py``, 2026-12-06). Workers call this before forking their pool, whose processes
    inherit the loaded code.
    """
    config = np.zeros(machine.CONFIG_SLOTS)
    config[[machine.SIZING_VALUE, machine.STOP_FRACTION, machine.TARGET_FRACTION, machine.TRAIL_FRACTION]] = 0.5
    config[[machine.STEP_NUMERATOR, machine.STEP_DENOMINATOR]] = 1.0
    config[[machine.MAX_POSITION_NOTIONAL, machine.MAX_DAILY_LOSS, machine.MAX_DRAWDOWN]] = np.nan  # no limits
    position = Position("warm-up", "WARMUP", machine.new_state(10_000.0), bar=0)
    machine.on_signals(position.state, True, False, False, False, 1.0, 1.0, 1.0, config)
    machine.on_close(position.state, 0, 0, 100.0, config)
    machine.equity(position.state, 100.0)
    fill(position, 0, 100.0, config)
    advance(position, PricePath(np.array([1, 0, 0, 100.0, 150.0, 50.0])), 60_000, config)


def order_pending(position: Position) -> bool:
    """Whether the last close left an order that changes the position."""
    order = position.state[machine.ORDER]
    return bool(order != machine.NO_ORDER and order != position.side)


def stream_id(value: str) -> tuple[int, int]:
    millis, _, sequence = value.partition("-")
    return int(millis), int(sequence or 0)


def exit_reason(row: np.ndarray) -> ExitReason:
    return _REASONS[int(row[machine.T_REASON])]


def has_risk_exits(config: np.ndarray) -> bool:
    """Whether a position under ``config`` can be closed by a tick (stop, target or trailing stop)."""
    fractions = config[[machine.STOP_FRACTION, machine.TARGET_FRACTION, machine.TRAIL_FRACTION]]
    return bool(np.isfinite(fractions).any())
