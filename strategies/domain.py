"""Trading domain types shared by the backtester and the live engine.

Explicit, immutable values in the style of nautilus_trader: a feed emits
``Tick``s, a position has a ``Side``, an execution is a ``Fill``, a round trip is a ``Trade``. The numbers
come out of the compiled position state machine (``strategies.position``) as
plain arrays; these types are what the rest of the platform (API, storage,
charts) sees. Times are epoch milliseconds (UTC) everywhere; ``to_dict()``
gives JSON-ready dicts with the times as ints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType

import numpy as np


def iso_time(ms: int) -> str:
    """``1704067200000`` -> ``"2024-01-01T00:00:00Z"`` (milliseconds shown only when non-zero)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


class Side(IntEnum):
    """Direction of a position; the value is the sign of its signed size."""

    LONG = 1
    SHORT = -1

    @property
    def label(self) -> str:
        return self.name.lower()


class OrderSide(StrEnum):
    """Direction of an execution: what the account did at the market."""

    BUY = "buy"
    SELL = "sell"

    @classmethod
    def opening(cls, side: Side) -> OrderSide:
        return cls.BUY if side is Side.LONG else cls.SELL

    @classmethod
    def closing(cls, side: Side) -> OrderSide:
        return cls.SELL if side is Side.LONG else cls.BUY


class ExitReason(StrEnum):
    """Why a round trip ended. ``END`` marks a position still open when the data ran out."""

    SIGNAL = "signal"
    REVERSAL = "reversal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    END = "end"
    LIMIT = "limit"
    """Closed because a loss limit (``risk.limits``) tripped: the strategy stops trading."""


class SkipReason(StrEnum):
    """Why an entry signal placed no order: the size it came to is one the market does not take."""

    NO_EQUITY = "no_equity"
    """Equity is zero or less (a short that went against the account)."""
    SIZE_BELOW_STEP = "size_below_step"
    """The size rounds down to zero lots of the quantity step."""
    BELOW_MIN_QTY = "below_min_qty"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    ABOVE_MAX_NOTIONAL = "above_max_notional"
    """Size x fill price above ``risk.limits.max_position_notional``."""

    @property
    def text(self) -> str:
        """The reason as a phrase for warnings and log lines."""
        return _SKIP_TEXTS[self]


_SKIP_TEXTS = {
    SkipReason.NO_EQUITY: "no equity",
    SkipReason.SIZE_BELOW_STEP: "size below the quantity step",
    SkipReason.BELOW_MIN_QTY: "size below min_qty",
    SkipReason.BELOW_MIN_NOTIONAL: "value below min_notional",
    SkipReason.ABOVE_MAX_NOTIONAL: "value above max_position_notional",
}
SKIP_REASON_CODES: Mapping[SkipReason, int] = MappingProxyType(
    {reason: code for code, reason in enumerate(SkipReason, start=1)}
)
"""The small integers compiled code uses for skip reasons; 0 is none."""


class RiskLimit(StrEnum):
    """A limit of ``risk.limits`` (docs/strategy-spec.md, "Limits"), as events and results name it."""

    MAX_POSITION_NOTIONAL = "max_position_notional"
    MAX_TOTAL_EXPOSURE = "max_total_exposure"
    MAX_DAILY_LOSS = "max_daily_loss"
    MAX_DRAWDOWN = "max_drawdown"
    MAX_ORDERS_PER_MINUTE = "max_orders_per_minute"


LOSS_LIMIT_CODES: Mapping[RiskLimit, int] = MappingProxyType({RiskLimit.MAX_DAILY_LOSS: 1, RiskLimit.MAX_DRAWDOWN: 2})
"""The limits that stop a strategy, as the small integers compiled code records them; 0 is none."""


@dataclass(frozen=True)
class LimitBreach:
    """A loss limit that tripped at a close: the position closes at the next open and the strategy trades no more.

    ``loss`` is ``1 - equity / reference``: how far equity at that close fell below the day's starting
    equity (``max_daily_loss``) or the peak (``max_drawdown``); ``threshold`` is the limit in force.
    """

    limit: RiskLimit
    ts: int
    """Open time of the candle whose close tripped it."""
    bar: int
    equity: float
    reference: float
    loss: float
    threshold: float

    def to_dict(self) -> dict:
        return {
            "limit": self.limit.value,
            "time": self.ts,
            "bar": self.bar,
            "equity": self.equity,
            "reference": self.reference,
            "loss": self.loss,
            "threshold": self.threshold,
        }

    @property
    def text(self) -> str:
        """The breach in words, for log lines and results."""
        whence = "the day's starting equity" if self.limit is RiskLimit.MAX_DAILY_LOSS else "the peak"
        return (
            f"{self.limit.value} tripped: equity {self.equity:g} is {self.loss:.2%} below {whence} "
            f"{self.reference:g} (limit {self.threshold:.2%})"
        )


EXIT_REASON_CODES: Mapping[ExitReason, int] = MappingProxyType({reason: code for code, reason in enumerate(ExitReason)})
"""The small integers compiled code and columnar logs use for exit reasons."""
_EXIT_REASONS = tuple(ExitReason)


def return_fraction(side, size, entry_price, exit_price, commission):
    """A round trip's return: the price move in its favour relative to the entry price, less the
    commission per unit of entry value (backtesting.py's ``Trade.pl_pct``). Scalars or arrays."""
    return side * (exit_price / entry_price - 1) - commission / (size * entry_price)


@dataclass(frozen=True)
class Tick:
    """One trade print from a market-data feed: ``qty`` units of ``symbol`` at ``price``."""

    symbol: str
    ts: int
    price: float
    qty: float


@dataclass(frozen=True)
class Fill:
    """One execution: ``size`` units (always positive) bought or sold at ``price``."""

    ts: int
    side: OrderSide
    size: float
    price: float
    commission: float

    def to_dict(self) -> dict:
        return {
            "ts": self.ts,
            "side": self.side.value,
            "size": self.size,
            "price": self.price,
            "commission": self.commission,
        }


@dataclass(frozen=True)
class Trade:
    """A round trip: a position opened by one fill and closed (or still held) at another.

    ``size`` is positive whatever the side. ``pnl`` is net of ``commission``, the sum
    of the entry and exit commissions: ``side * size * (exit - entry) - commission``.
    ``return_pct`` is, like backtesting.py's ``ReturnPct``, the price move in the
    trade's favour relative to the entry price, less the commission per unit of
    entry value.

    An open trade (``exit_reason`` is ``END``) is marked at the last close: its
    ``exit_*`` fields are that bar and price, and ``commission``/``pnl`` include only
    the entry commission, since the exit has not been paid for.
    """

    side: Side
    size: float
    entry_ts: int
    entry_price: float
    exit_ts: int
    exit_price: float
    pnl: float
    commission: float
    exit_reason: ExitReason
    entry_bar: int
    exit_bar: int

    @property
    def is_open(self) -> bool:
        return self.exit_reason is ExitReason.END

    @property
    def return_pct(self) -> float:
        return return_fraction(self.side, self.size, self.entry_price, self.exit_price, self.commission) * 100

    @property
    def duration_ms(self) -> int:
        return self.exit_ts - self.entry_ts

    def fills(self) -> tuple[Fill, ...]:
        """The entry fill, and the exit fill unless the trade is still open.

        Only the total commission is kept, so it is split by traded value, which is
        exactly how a commission proportional to value was charged.
        """
        entry_value = self.size * self.entry_price
        exit_value = 0.0 if self.is_open else self.size * self.exit_price
        per_value = self.commission / (entry_value + exit_value)
        entry = Fill(self.entry_ts, OrderSide.opening(self.side), self.size, self.entry_price, per_value * entry_value)
        if self.is_open:
            return (entry,)
        exit_ = Fill(self.exit_ts, OrderSide.closing(self.side), self.size, self.exit_price, per_value * exit_value)
        return entry, exit_

    def to_dict(self) -> dict:
        return {
            "side": self.side.label,
            "size": self.size,
            "entry_time": self.entry_ts,
            "entry_price": self.entry_price,
            "exit_time": self.exit_ts,
            "exit_price": self.exit_price,
            "pnl": self.pnl,
            "return_pct": self.return_pct,
            "commission": self.commission,
            "exit_reason": self.exit_reason.value,
            "is_open": self.is_open,
            "entry_bar": self.entry_bar,
            "exit_bar": self.exit_bar,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class SkippedEntry:
    """An entry order that was not placed: when, on which side, at what price and equity, and why.

    ``price`` is the market price the order would have filled at (the bar's open in a backtest,
    before slippage); ``equity`` the account's at that moment.
    """

    ts: int
    bar: int
    side: Side
    price: float
    equity: float
    reason: SkipReason

    def to_dict(self) -> dict:
        return {
            "time": self.ts,
            "bar": self.bar,
            "side": self.side.label,
            "price": self.price,
            "equity": self.equity,
            "reason": self.reason.value,
        }


@dataclass(frozen=True)
class SkippedEntries:
    """The entry orders a backtest did not place: how many for each reason, and the first few in full."""

    by_reason: Mapping[SkipReason, int]
    """Only reasons that occurred."""
    first: tuple[SkippedEntry, ...]

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "by_reason": {reason.value: count for reason, count in self.by_reason.items()},
            "first": [entry.to_dict() for entry in self.first],
        }


def skips_text(by_reason: Mapping[str, int]) -> str:
    """``by_reason`` (reason value -> count, as stored) in words: ``41 entries skipped: size below the
    quantity step (41)``; "" when nothing was skipped."""
    total = sum(by_reason.values())
    if not total:
        return ""
    reasons = ", ".join(f"{SkipReason(reason).text} ({count:,})" for reason, count in by_reason.items() if count)
    return f"{total:,} {'entry' if total == 1 else 'entries'} skipped: {reasons}"


@dataclass(frozen=True, eq=False)
class TradeLog:
    """Closed trades as columns, one array per ``Trade`` field, in exit order.

    A backtest can close tens of thousands of trades; stats and storage work on the
    columns, and ``Trade`` objects are only made for whoever iterates.
    """

    side: np.ndarray
    size: np.ndarray
    entry_bar: np.ndarray
    exit_bar: np.ndarray
    entry_ts: np.ndarray
    exit_ts: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    pnl: np.ndarray
    commission: np.ndarray
    exit_reason: np.ndarray
    """Codes from ``EXIT_REASON_CODES``."""

    def __len__(self) -> int:
        return len(self.size)

    def __getitem__(self, index: int) -> Trade:
        return Trade(
            side=Side(int(self.side[index])),
            size=float(self.size[index]),
            entry_ts=int(self.entry_ts[index]),
            entry_price=float(self.entry_price[index]),
            exit_ts=int(self.exit_ts[index]),
            exit_price=float(self.exit_price[index]),
            pnl=float(self.pnl[index]),
            commission=float(self.commission[index]),
            exit_reason=_EXIT_REASONS[self.exit_reason[index]],
            entry_bar=int(self.entry_bar[index]),
            exit_bar=int(self.exit_bar[index]),
        )

    def __iter__(self) -> Iterator[Trade]:
        return (self[index] for index in range(len(self)))

    def return_fractions(self) -> np.ndarray:
        return return_fraction(self.side, self.size, self.entry_price, self.exit_price, self.commission)

    def to_dicts(self) -> list[dict]:
        return [trade.to_dict() for trade in self]
