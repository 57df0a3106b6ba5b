"""The position state machine: one account, one instrument, at most one position.

Written once, in numba, and driven two ways:

* the backtester calls ``simulate``, which runs ``step_bar`` then ``on_close``
  over every bar of a history inside one compiled loop;
* the live engine keeps a ``state`` array between candles and calls the same
  kernels from Python: ``fill_order`` on a candle's first trade, ``step_ticks``
  on each batch of trades (so stops and targets fire between closes), and
  ``on_signals`` then ``on_close`` when the candle closes. ``step_bar`` is
  exactly the first three with the whole candle as one batch; a live engine
  without trades can call it (and ``on_close``) once per closed candle.

Everything the machine knows is in two float64 arrays. ``state`` (slots named
below, built by ``new_state``) is the account and its position and changes as
bars go by; ``config`` (built by ``make_config``) holds the strategy's fixed
costs, sizing and risk settings. Keeping both as flat arrays is what lets the
same kernel run inside a compiled loop and be saved between live candles.

Semantics (docs/backtesting.md has the full story, kept equal to backtesting.py's):

* Orders come from the rules evaluated on a bar's close and fill at the *next*
  bar's open: ``step_bar`` first fills the order left by the previous bar, then
  checks stops and targets against the bar's range, then reads this bar's
  signals. An order left after the last bar of a backtest never fills.
* Only one position: entries only when flat (or when reversing, if allowed);
  an exit closes all of it. Exit beats re-entry on the same side; both entry
  rules true at once cancel out.
* Stop, take-profit and trailing stop are checked on the entry bar too (the
  entry was at its open; its high and low came after). The stop beats the
  target when one range touches both. A range that *starts* beyond a level
  (a gap) fills at its first price.
* Prices the account gets are moved against it by ``slippage`` (all market
  and stop fills; a take-profit is a limit order and fills at its level or
  better). Commission is a fraction of traded value, paid on entry and exit.
* Risk limits: an entry worth more than ``max_position_notional`` is skipped;
  ``on_close``, run after ``on_signals`` at every close, checks the loss limits
  (daily loss from the UTC day's starting equity, drawdown from the peak) on
  equity at the close; one that trips turns the order into GO_FLAT (exit
  reason ``limit`` at the next open), and no entry is taken after it.

Accounting follows backtesting.py: ``BALANCE`` is the realised account value
(initial cash, plus closed PnL, minus every commission paid) and equity is the
balance plus the open position's price gain since entry. Buying does not move
the balance, so the same arithmetic serves longs and shorts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numba import njit

from .domain import (
    EXIT_REASON_CODES,
    LOSS_LIMIT_CODES,
    SKIP_REASON_CODES,
    ExitReason,
    LimitBreach,
    RiskLimit,
    Side,
    SkippedEntries,
    SkippedEntry,
    SkipReason,
    Trade,
    TradeLog,
)
from .spec import AtrDistance, Distance, FractionDistance, RiskLimits, StrategySpec, resolve_value

# -- state slots --------------------------------------------------------------------------
SIDE = 0
"""+1 long, -1 short, 0 flat."""
SIZE = 1
"""Units held; always positive."""
ENTRY_PRICE = 2
"""The entry fill price, slippage included."""
ENTRY_BAR = 3
"""The ``bar`` number the caller passed when the entry filled (an index in backtests)."""
ENTRY_COMMISSION = 4
"""Commission paid for the entry (already taken from the balance)."""
STOP = 5
"""Stop-loss price; NaN when the strategy has none."""
TARGET = 6
"""Take-profit price; NaN when the strategy has none."""
TRAIL_OFFSET = 7
"""The fixed part of the trailing distance (ATR x multiple at the signal bar); 0 for a fraction."""
TRAIL_ANCHOR = 8
"""Best market price since entry: the entry bar's open, then each finished range's high (long) or low (short)."""
BALANCE = 9
"""Initial cash, plus closed PnL, minus every commission paid."""
ORDER = 10
"""What to do at the next open: NO_ORDER, GO_LONG, GO_SHORT or GO_FLAT."""
ORDER_STOP_OFFSET = 11
ORDER_TARGET_OFFSET = 12
ORDER_TRAIL_OFFSET = 13
"""The ATR parts of the three distances, taken at the signal bar and used when the order fills."""
SKIPPED = 14
"""The entry order the last fill did not place: its side (+1/-1) times a ``SKIP_REASON_CODES`` code;
0 for none. Whoever reports skipped entries reads it after a fill and sets it back to 0."""
LIMIT = 15
"""The loss limit that stopped the strategy (a ``LOSS_LIMIT_CODES`` code); 0 while none has. Once set, every
close leaves GO_FLAT (in a position) or NO_ORDER: no entry is taken again in this account."""
LIMIT_BAR = 16
LIMIT_EQUITY = 17
LIMIT_REFERENCE = 18
"""The close that tripped the limit: its ``bar``, the equity there, and the equity the loss is measured from
(the day's starting equity, or the peak)."""
DAY = 19
"""The UTC day (days since the epoch) of the last close seen; -1 before the first."""
DAY_START_EQUITY = 20
"""Equity at the last close before the current UTC day's first (the cash, on the first day)."""
PEAK_EQUITY = 21
"""The highest equity at a close so far, the cash included."""
CLOSE_EQUITY = 22
"""Equity at the last close (the cash before the first)."""
STATE_SLOTS = 23

NO_ORDER = 0.0
GO_LONG = 1.0
GO_SHORT = -1.0
GO_FLAT = 2.0

# -- config slots -------------------------------------------------------------------------
COMMISSION = 0
SLIPPAGE = 1
SIZING_MODE = 2
SIZING_VALUE = 3
ALLOW_REVERSAL = 4
STOP_FRACTION = 5
TARGET_FRACTION = 6
TRAIL_FRACTION = 7
"""Each risk distance is ``fraction * reference price + offset`` (the offset is the ATR part,
given per bar). A fraction-based distance has offset 0, an ATR-based one fraction 0, and a
missing one a NaN fraction, which makes its price NaN: never touched."""
STEP_NUMERATOR = 8
STEP_DENOMINATOR = 9
"""The quantity step as an exact fraction: a size of ``lots`` is ``lots * numerator / denominator``
units, the float nearest that exact multiple (``strategies.quantities``)."""
MIN_LOTS = 10
"""The minimum quantity, in lots."""
MIN_NOTIONAL = 11
"""The minimum order value, size x fill price."""
MAX_POSITION_NOTIONAL = 12
"""The largest entry value, size x fill price; NaN for no limit."""
MAX_DAILY_LOSS = 13
MAX_DRAWDOWN = 14
"""The loss limits, fractions of equity (``risk.limits``); NaN for none, which never trips."""
CONFIG_SLOTS = 15

DAY_MS = 86_400_000
"""A UTC day in epoch ms: a close's day is its candle's open time // DAY_MS."""

_FRACTION_OF_EQUITY, _FIXED_UNITS, _RISK_PER_TRADE = 0, 1, 2
SIZING_MODES = {
    "fraction_of_equity": _FRACTION_OF_EQUITY,
    "fixed_units": _FIXED_UNITS,
    "risk_per_trade": _RISK_PER_TRADE,
}
_ALL_IN = 1.0 - sys.float_info.epsilon
"""backtesting.py's default ``buy()`` size: a hair under all of equity, so float error can't overspend."""

# -- closed-trade rows --------------------------------------------------------------------
T_SIDE, T_SIZE, T_ENTRY_BAR, T_EXIT_BAR, T_ENTRY_PRICE, T_EXIT_PRICE, T_PNL, T_COMMISSION, T_REASON = range(9)
TRADE_FIELDS = 9
MAX_TRADES_PER_BAR = 2
"""A bar can close a position at its open (exit or reversal) and the reversed one at a stop."""

_SIGNAL = EXIT_REASON_CODES[ExitReason.SIGNAL]
_REVERSAL = EXIT_REASON_CODES[ExitReason.REVERSAL]
_STOP_LOSS = EXIT_REASON_CODES[ExitReason.STOP_LOSS]
_TAKE_PROFIT = EXIT_REASON_CODES[ExitReason.TAKE_PROFIT]
_TRAILING_STOP = EXIT_REASON_CODES[ExitReason.TRAILING_STOP]
_LIMIT_EXIT = EXIT_REASON_CODES[ExitReason.LIMIT]
_NO_EQUITY = SKIP_REASON_CODES[SkipReason.NO_EQUITY]
_SIZE_BELOW_STEP = SKIP_REASON_CODES[SkipReason.SIZE_BELOW_STEP]
_BELOW_MIN_QTY = SKIP_REASON_CODES[SkipReason.BELOW_MIN_QTY]
_BELOW_MIN_NOTIONAL = SKIP_REASON_CODES[SkipReason.BELOW_MIN_NOTIONAL]
_ABOVE_MAX_NOTIONAL = SKIP_REASON_CODES[SkipReason.ABOVE_MAX_NOTIONAL]
_DAILY_LOSS = LOSS_LIMIT_CODES[RiskLimit.MAX_DAILY_LOSS]
_DRAWDOWN = LOSS_LIMIT_CODES[RiskLimit.MAX_DRAWDOWN]
_LOSS_LIMITS = {code: limit for limit, code in LOSS_LIMIT_CODES.items()}
_SKIP_REASONS = {code: reason for reason, code in SKIP_REASON_CODES.items()}
KEPT_SKIPS = 5
"""Skipped entries a backtest keeps in full (time, price, equity); the rest are only counted."""


# -- building the arrays (Python) ---------------------------------------------------------


def new_state(cash: float) -> np.ndarray:
    """A flat account holding ``cash``, with no order waiting."""
    state = np.zeros(STATE_SLOTS)
    state[[STOP, TARGET]] = np.nan
    state[[BALANCE, DAY_START_EQUITY, PEAK_EQUITY, CLOSE_EQUITY]] = cash
    state[DAY] = -1.0
    return state


def make_config(
    spec: StrategySpec, params: Mapping[str, float], symbol: str | None = None, limits: RiskLimits | None = None
) -> np.ndarray:
    """The fixed settings of ``spec`` trading ``symbol`` (default: its first), ``$name`` references
    resolved from ``params``; ``limits`` in place of the spec's ``risk.limits`` (live: the stricter of
    those and the operator's).

    The symbol picks the quantity rules. A ``fixed_units`` amount is stored in whole lots, rounded
    down here in exact decimals: 0.29 at a step of 0.01 is 29 lots, where float division says 28.
    """
    rules = spec.sizing.quantity_rules(symbol or spec.symbols[0])
    value = resolve_value(spec.sizing.value, params)
    config = np.empty(CONFIG_SLOTS)
    config[COMMISSION] = spec.costs.commission
    config[SLIPPAGE] = spec.costs.slippage
    config[SIZING_MODE] = SIZING_MODES[spec.sizing.mode]
    config[SIZING_VALUE] = rules.lots(value) if spec.sizing.mode == "fixed_units" else value
    config[STEP_NUMERATOR] = rules.step.numerator
    config[STEP_DENOMINATOR] = rules.step.denominator
    config[MIN_LOTS] = min(rules.min_lots, sys.float_info.max)  # an absurd min_qty / step can't overflow the float
    config[MIN_NOTIONAL] = rules.min_notional
    config[ALLOW_REVERSAL] = spec.allow_reversal
    config[STOP_FRACTION] = _fraction(spec.risk.stop_loss, params)
    config[TARGET_FRACTION] = _fraction(spec.risk.take_profit, params)
    config[TRAIL_FRACTION] = _fraction(spec.risk.trailing_stop, params)
    limits = spec.risk.limits if limits is None else limits
    for slot, value in (
        (MAX_POSITION_NOTIONAL, limits.max_position_notional),
        (MAX_DAILY_LOSS, limits.max_daily_loss),
        (MAX_DRAWDOWN, limits.max_drawdown),
    ):
        config[slot] = np.nan if value is None else value
    return config


def _fraction(distance: Distance | None, params: Mapping[str, float]) -> float:
    if isinstance(distance, FractionDistance):
        return resolve_value(distance.fraction, params)
    return 0.0 if isinstance(distance, AtrDistance) else np.nan


def risk_offsets(spec: StrategySpec, series: Mapping[str, np.ndarray], params: Mapping[str, float]) -> np.ndarray:
    """The ATR parts of the stop, target and trailing distances: one row per bar, columns in that order.

    ``series`` holds the indicator outputs; an ATR distance is ``multiple * series[atr]``, NaN
    while that indicator warms up (no entry is taken then: its stop would be unknown). A
    strategy without ATR distances gets a single row of zeros, which stands for every bar.
    """
    offsets = np.zeros((1, 3))
    for column, distance in enumerate((spec.risk.stop_loss, spec.risk.take_profit, spec.risk.trailing_stop)):
        if isinstance(distance, AtrDistance):
            atr = series[distance.atr]
            if len(offsets) != len(atr):
                offsets = np.zeros((len(atr), 3))
            offsets[:, column] = resolve_value(distance.multiple, params) * atr
    return offsets


def trade_log(rows: np.ndarray, ts: np.ndarray) -> TradeLog:
    """Closed-trade rows from ``simulate`` as a TradeLog, bar numbers mapped to times through ``ts``."""
    entry_bar = rows[:, T_ENTRY_BAR].astype(np.int64)
    exit_bar = rows[:, T_EXIT_BAR].astype(np.int64)
    return TradeLog(
        side=rows[:, T_SIDE].astype(np.int8),
        size=rows[:, T_SIZE],
        entry_bar=entry_bar,
        exit_bar=exit_bar,
        entry_ts=ts[entry_bar],
        exit_ts=ts[exit_bar],
        entry_price=rows[:, T_ENTRY_PRICE],
        exit_price=rows[:, T_EXIT_PRICE],
        pnl=rows[:, T_PNL],
        commission=rows[:, T_COMMISSION],
        exit_reason=rows[:, T_REASON].astype(np.int8),
    )


def open_trade(state: np.ndarray, ts: np.ndarray, close: np.ndarray) -> Trade | None:
    """The position ``state`` holds, marked at the last of ``close``, as an open Trade; None when flat.

    Bar numbers in ``state`` index ``ts``. Its PnL counts the entry commission only: the exit
    has not been paid for.
    """
    if state[SIDE] == 0.0:
        return None
    side, size, entry_price = Side(int(state[SIDE])), float(state[SIZE]), float(state[ENTRY_PRICE])
    mark, commission, entry_bar = float(close[-1]), float(state[ENTRY_COMMISSION]), int(state[ENTRY_BAR])
    return Trade(
        side=side,
        size=size,
        entry_ts=int(ts[entry_bar]),
        entry_price=entry_price,
        exit_ts=int(ts[-1]),
        exit_price=mark,
        pnl=side * size * (mark - entry_price) - commission,
        commission=commission,
        exit_reason=ExitReason.END,
        entry_bar=entry_bar,
        exit_bar=len(ts) - 1,
    )


# -- the machine (compiled) ---------------------------------------------------------------

_kernel = njit(cache=True, _nrt=False, inline="always")
"""How the kernels are compiled. They never allocate, so they go without numba's reference
counting, and they are inlined into their callers: otherwise each call in the bar loop pays
for atomic reference counts and a call frame, several times the kernel's own work (a
million bars took 140 ms instead of 10)."""


@_kernel
def _slipped(price, direction, slippage):
    """``price`` moved against a buyer (direction +1) or a seller (-1)."""
    return price * (1.0 + direction * slippage)


@_kernel
def _affordable_lots(equity, fraction, price, commission, config):
    """Whole lots that ``fraction`` of equity pays for, commission included.

    The float operations are backtesting.py's own, so at a step of 1 (numerator and denominator
    1, multiplying by which changes nothing) sizes agree with it even at a whole-unit boundary.
    """
    cost_per_unit = price + fraction * price * commission / fraction
    return (equity * fraction * config[STEP_DENOMINATOR]) // (cost_per_unit * config[STEP_NUMERATOR])


@_kernel
def _entry_lots(equity, price, stop_distance, config):
    """Lots to buy or sell: what the sizing mode asks for, at most what equity pays for.

    A ``fixed_units`` amount (in lots in the config) is taken as given whenever it costs no more
    than equity, commission included; only beyond that is it cut to what all of equity buys.
    """
    mode = config[SIZING_MODE]
    value = config[SIZING_VALUE]
    commission = config[COMMISSION]
    if mode == _FRACTION_OF_EQUITY:
        return _affordable_lots(equity, min(value, _ALL_IN), price, commission, config)
    if mode == _FIXED_UNITS:
        if value * config[STEP_NUMERATOR] / config[STEP_DENOMINATOR] * price * (1.0 + commission) <= equity:
            return value
        wanted = value
    else:  # _RISK_PER_TRADE: lose ``value`` of equity if the stop is hit
        units = equity * value / stop_distance if stop_distance > 0.0 else 0.0
        wanted = (units * config[STEP_DENOMINATOR]) // config[STEP_NUMERATOR]
    return min(wanted, _affordable_lots(equity, _ALL_IN, price, commission, config))


@_kernel
def _skip_reason(equity, lots, value, config):
    """Why an entry of ``lots`` worth ``value`` is not placed (a SKIP_REASON_CODES code), or 0.

    Written so that NaN (a cash amount too large for float arithmetic) is refused, never traded.
    """
    if not equity > 0.0:
        return _NO_EQUITY
    if not lots >= 1.0:
        return _SIZE_BELOW_STEP
    if not lots >= config[MIN_LOTS]:
        return _BELOW_MIN_QTY
    if not value >= config[MIN_NOTIONAL]:
        return _BELOW_MIN_NOTIONAL
    if value > config[MAX_POSITION_NOTIONAL]:  # false for NaN: no limit
        return _ABOVE_MAX_NOTIONAL
    return 0


@_kernel
def _open(state, bar, side, market_price, stop_offset, target_offset, trail_offset, config):
    """Enter at ``market_price`` (slipped here), or record in ``state[SKIPPED]`` why not."""
    price = _slipped(market_price, side, config[SLIPPAGE])
    stop_distance = config[STOP_FRACTION] * price + stop_offset
    equity = state[BALANCE]  # flat when entering, so equity is the balance
    lots = _entry_lots(equity, price, stop_distance, config)
    size = lots * config[STEP_NUMERATOR] / config[STEP_DENOMINATOR]
    skip = _skip_reason(equity, lots, size * price, config)
    if skip != 0:
        state[SKIPPED] = side * skip
        return
    commission = size * price * config[COMMISSION]
    state[BALANCE] -= commission
    state[SIDE] = side
    state[SIZE] = size
    state[ENTRY_PRICE] = price
    state[ENTRY_BAR] = bar
    state[ENTRY_COMMISSION] = commission
    state[STOP] = price - side * stop_distance
    state[TARGET] = price + side * (config[TARGET_FRACTION] * price + target_offset)
    state[TRAIL_OFFSET] = trail_offset
    state[TRAIL_ANCHOR] = market_price


@_kernel
def _close(state, bar, price, reason, config, trades, n):
    """Close the whole position at ``price`` (already slipped); record it as row ``n``; return n + 1."""
    side = state[SIDE]
    size = state[SIZE]
    signed_size = side * size
    commission = size * price * config[COMMISSION]
    gain = signed_size * (price - state[ENTRY_PRICE])
    state[BALANCE] += gain - commission
    total_commission = commission + state[ENTRY_COMMISSION]
    trades[n, T_SIDE] = side
    trades[n, T_SIZE] = size
    trades[n, T_ENTRY_BAR] = state[ENTRY_BAR]
    trades[n, T_EXIT_BAR] = bar
    trades[n, T_ENTRY_PRICE] = state[ENTRY_PRICE]
    trades[n, T_EXIT_PRICE] = price
    trades[n, T_PNL] = gain - total_commission
    trades[n, T_COMMISSION] = total_commission
    trades[n, T_REASON] = reason
    state[SIDE] = 0.0
    state[SIZE] = 0.0
    state[STOP] = np.nan
    state[TARGET] = np.nan
    return n + 1


@_kernel
def trailing_stop_price(state, config):
    """Where the trailing stop stands now; NaN when flat or when the strategy has none."""
    anchor = state[TRAIL_ANCHOR]
    return anchor - state[SIDE] * (config[TRAIL_FRACTION] * anchor + state[TRAIL_OFFSET])


@_kernel
def fill_order(state, bar, open_price, config, trades, n):
    """Carry out the order the previous close left, at this bar's ``open_price``; return the trade count."""
    order = state[ORDER]
    state[ORDER] = NO_ORDER
    side = state[SIDE]
    if order == NO_ORDER or order == side:  # noqa: SIM109  (numba compiles this form)
        return n
    if side != 0.0:
        reason = _REVERSAL if order != GO_FLAT else (_LIMIT_EXIT if state[LIMIT] != 0.0 else _SIGNAL)
        n = _close(state, bar, _slipped(open_price, -side, config[SLIPPAGE]), reason, config, trades, n)
    if order != GO_FLAT:
        _open(
            state, bar, order, open_price,
            state[ORDER_STOP_OFFSET], state[ORDER_TARGET_OFFSET], state[ORDER_TRAIL_OFFSET], config,
        )  # fmt: skip
    return n


@_kernel
def step_ticks(state, bar, first, high, low, config, trades, n):
    """Check the stop, trailing stop and target against a price range; return the trade count.

    The range is a whole bar (``first`` = its open) in backtests, or a batch of live
    trades (``first`` = the batch's first price). Levels are those in force when the
    range starts; the trailing anchor then moves to the range's best price, because
    within a range we can't know whether the high came before the low.
    """
    side = state[SIDE]
    if side == 0.0:
        return n
    adverse, favourable = (low, high) if side > 0.0 else (high, low)

    level, reason = state[STOP], _STOP_LOSS
    trail = trailing_stop_price(state, config)
    if not np.isnan(trail) and (np.isnan(level) or side * trail > side * level):
        level, reason = trail, _TRAILING_STOP
    if side * adverse <= side * level:  # false for NaN: no stop
        price = first if side * first < side * level else level
        return _close(state, bar, _slipped(price, -side, config[SLIPPAGE]), reason, config, trades, n)

    target = state[TARGET]
    if side * favourable >= side * target:
        price = first if side * first > side * target else target
        return _close(state, bar, price, _TAKE_PROFIT, config, trades, n)

    if side * favourable > side * state[TRAIL_ANCHOR]:
        state[TRAIL_ANCHOR] = favourable
    return n


@_kernel
def on_signals(state, enter_long, exit_long, enter_short, exit_short, stop_offset, target_offset, trail_offset, config):
    """Read the rules at a bar's close and leave the order for the next open.

    An entry whose risk distances are unknown (an ATR still warming up) is not taken.
    """
    ready = np.isfinite(stop_offset) and np.isfinite(target_offset) and np.isfinite(trail_offset)
    go_long = enter_long and ready and not enter_short
    go_short = enter_short and ready and not enter_long
    reversing = config[ALLOW_REVERSAL] != 0.0
    side = state[SIDE]
    if side == 0.0:
        order = GO_LONG if go_long else (GO_SHORT if go_short else NO_ORDER)
    elif side > 0.0:
        order = GO_SHORT if go_short and reversing else (GO_FLAT if exit_long else NO_ORDER)
    else:
        order = GO_LONG if go_long and reversing else (GO_FLAT if exit_short else NO_ORDER)
    state[ORDER] = order
    state[ORDER_STOP_OFFSET] = stop_offset
    state[ORDER_TARGET_OFFSET] = target_offset
    state[ORDER_TRAIL_OFFSET] = trail_offset


@_kernel
def step_bar(
    state, bar, open_price, high, low,
    enter_long, exit_long, enter_short, exit_short,
    stop_offset, target_offset, trail_offset,
    config, trades, n,
):  # fmt: skip
    """One finished bar: fill the waiting order at its open, check exits over its range, read its signals.

    Closed trades are written to ``trades`` from row ``n`` on (at most MAX_TRADES_PER_BAR);
    returns the new row count. An entry filled on this bar shows as ``state[ENTRY_BAR] == bar``.
    """
    n = fill_order(state, bar, open_price, config, trades, n)
    n = step_ticks(state, bar, open_price, high, low, config, trades, n)
    on_signals(state, enter_long, exit_long, enter_short, exit_short, stop_offset, target_offset, trail_offset, config)
    return n


@_kernel
def equity(state, price):
    """The account marked at ``price``: balance plus the open position's gain since entry."""
    signed_size = state[SIDE] * state[SIZE]
    return state[BALANCE] + (price * signed_size - signed_size * state[ENTRY_PRICE])


@_kernel
def on_close(state, bar, day, close_price, config):
    """After ``on_signals`` at a close: mark the account at ``close_price``, check the loss limits, return the equity.

    ``day`` is the close's UTC day (its candle's open time // DAY_MS). The daily loss is measured from the
    equity at the last close before that day, the drawdown from the highest equity at a close; a loss of
    the limit or more trips it. A tripped limit (or one tripped before) turns the order the close left
    into GO_FLAT, filled at the next open like any exit, or into none when flat: no entry is taken again.
    """
    value = equity(state, close_price)
    if day != state[DAY]:
        state[DAY] = day
        state[DAY_START_EQUITY] = state[CLOSE_EQUITY]
    state[CLOSE_EQUITY] = value
    if value > state[PEAK_EQUITY]:
        state[PEAK_EQUITY] = value
    if state[LIMIT] == 0.0:  # NaN limits never trip: the comparisons are false
        if value <= state[DAY_START_EQUITY] * (1.0 - config[MAX_DAILY_LOSS]):
            state[LIMIT], state[LIMIT_REFERENCE] = _DAILY_LOSS, state[DAY_START_EQUITY]
        elif value <= state[PEAK_EQUITY] * (1.0 - config[MAX_DRAWDOWN]):
            state[LIMIT], state[LIMIT_REFERENCE] = _DRAWDOWN, state[PEAK_EQUITY]
        if state[LIMIT] != 0.0:
            state[LIMIT_BAR], state[LIMIT_EQUITY] = bar, value
    if state[LIMIT] != 0.0:
        state[ORDER] = GO_FLAT if state[SIDE] != 0.0 else NO_ORDER
    return value


@_kernel
def _note_skip(state, bar, price, skips, counts):
    """Count the entry ``state[SKIPPED]`` holds and keep it as a row of ``skips`` while there is room;
    clear it. ``counts[0]`` is the total, ``counts[code]`` each reason's."""
    kept = int(counts[0])
    if kept < len(skips):
        skips[kept, 0] = bar
        skips[kept, 1] = state[SKIPPED]
        skips[kept, 2] = price
        skips[kept, 3] = state[BALANCE]
    counts[0] += 1
    counts[int(abs(state[SKIPPED]))] += 1
    state[SKIPPED] = 0.0


@_kernel
def _simulate(
    state, ts, open_, high, low, close,
    enter_long, exit_long, enter_short, exit_short,
    offsets, config, trades, curve, skips, skip_counts,
):  # fmt: skip
    n = 0
    last_row = len(offsets) - 1
    for i in range(len(close)):
        row = min(i, last_row)
        n = step_bar(
            state, i, open_[i], high[i], low[i],
            enter_long[i], exit_long[i], enter_short[i], exit_short[i],
            offsets[row, 0], offsets[row, 1], offsets[row, 2],
            config, trades, n,
        )  # fmt: skip
        if state[SKIPPED] != 0.0:
            _note_skip(state, i, open_[i], skips, skip_counts)
        curve[i] = on_close(state, i, ts[i] // DAY_MS, close[i], config)
    return n


class Simulation(NamedTuple):
    """What ``simulate`` returns."""

    trades: np.ndarray
    """Closed-trade rows (``trade_log`` reads them)."""
    equity: np.ndarray
    """Equity at each close."""
    skipped: SkippedEntries
    """Entry orders not placed, the first KEPT_SKIPS of them in full."""


def simulate(
    state: np.ndarray,
    ts: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    signals: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    offsets: np.ndarray,
    config: np.ndarray,
) -> Simulation:
    """Run ``step_bar`` over a whole history, and note every entry order it did not place.

    ``signals`` are the enter_long, exit_long, enter_short and exit_short bools per bar;
    ``offsets`` the stop, target and trailing ATR parts from ``risk_offsets``.
    ``state`` is updated in place and ends as the account after the last bar, with the
    position still open, if any, and the order the last bar left, never filled.
    """
    curve = np.empty(len(close))
    trades = np.empty((len(close), TRADE_FIELDS))  # a trade needs an entry, at most one per bar
    skips, counts = np.empty((KEPT_SKIPS, 4)), np.zeros(len(SKIP_REASON_CODES) + 1)
    n = _simulate(state, ts, open_, high, low, close, *signals, offsets, config, trades, curve, skips, counts)
    return Simulation(trades[:n].copy(), curve, _skipped_entries(ts, skips, counts) if counts[0] else _NONE_SKIPPED)


_NONE_SKIPPED = SkippedEntries(MappingProxyType({}), ())


def _skipped_entries(ts: np.ndarray, skips: np.ndarray, counts: np.ndarray) -> SkippedEntries:
    """What ``_note_skip`` gathered, as a SkippedEntries."""
    kept = tuple(
        skipped_entry(int(ts[int(bar)]), int(bar), code, price, balance)
        for bar, code, price, balance in skips[: min(int(counts[0]), KEPT_SKIPS)]
    )
    return SkippedEntries(
        {reason: int(counts[code]) for reason, code in SKIP_REASON_CODES.items() if counts[code]}, kept
    )


def skipped_entry(ts: int, bar: int, code: float, price: float, equity: float) -> SkippedEntry:
    """A ``state[SKIPPED]`` value (side x reason code) with where it happened, as a SkippedEntry."""
    return SkippedEntry(
        ts, bar, Side(1 if code > 0 else -1), float(price), float(equity), _SKIP_REASONS[int(abs(code))]
    )


def limit_breach(state: np.ndarray, ts: int, config: np.ndarray) -> LimitBreach | None:
    """The loss limit ``state`` records as tripped, at the close of the candle opened at ``ts``; None if none has.

    ``ts`` is the time of ``state[LIMIT_BAR]`` (the same number live, where bars are candle times).
    """
    code = int(state[LIMIT])
    if code == 0:
        return None
    limit = _LOSS_LIMITS[code]
    value, reference = float(state[LIMIT_EQUITY]), float(state[LIMIT_REFERENCE])
    threshold = config[MAX_DAILY_LOSS] if limit is RiskLimit.MAX_DAILY_LOSS else config[MAX_DRAWDOWN]
    loss = 1 - value / reference if reference > 0 else float("nan")  # a short can take equity to 0 or below
    return LimitBreach(limit, ts, int(state[LIMIT_BAR]), value, reference, loss, float(threshold))


# -- booking what a venue executed ---------------------------------------------------------
# The machine books every order as the paper broker fills it: whole, at the slipped price, for the
# spec's commission. A venue may execute less, at another price, for another fee; the live engine
# then rebooks the position (or the trade it closed) at the venue's figures with these.


def rebook_entry(state: np.ndarray, size: float, price: float, commission: float) -> None:
    """The open position as its entry really filled: ``size`` at ``price`` for ``commission``.

    The stop and target keep their distances from the entry price; the balance gets back the
    commission the machine booked and pays the real one.
    """
    shift = price - state[ENTRY_PRICE]
    state[BALANCE] += state[ENTRY_COMMISSION] - commission
    state[SIZE] = size
    state[ENTRY_PRICE] = price
    state[ENTRY_COMMISSION] = commission
    state[STOP] += shift
    state[TARGET] += shift


def cancel_entry(state: np.ndarray) -> None:
    """The open position's entry executed nothing: flat again, the booked commission given back."""
    state[BALANCE] += state[ENTRY_COMMISSION]
    state[SIDE] = 0.0
    state[SIZE] = 0.0
    state[STOP] = np.nan
    state[TARGET] = np.nan


def rebook_trade(
    state: np.ndarray,
    trade: np.ndarray,
    *,
    size: float | None = None,
    entry_price: float | None = None,
    exit_price: float | None = None,
    commission_change: float = 0.0,
) -> None:
    """A closed trade row with the venue's figures in place of the booked ones, and the balance moved by the
    change in its PnL (a closed trade's PnL is all the balance holds of it)."""
    before = trade[T_PNL]
    if size is not None:
        trade[T_SIZE] = size
    if entry_price is not None:
        trade[T_ENTRY_PRICE] = entry_price
    if exit_price is not None:
        trade[T_EXIT_PRICE] = exit_price
    trade[T_COMMISSION] += commission_change
    gain = trade[T_SIDE] * trade[T_SIZE] * (trade[T_EXIT_PRICE] - trade[T_ENTRY_PRICE])
    trade[T_PNL] = gain - trade[T_COMMISSION]
    state[BALANCE] += trade[T_PNL] - before
