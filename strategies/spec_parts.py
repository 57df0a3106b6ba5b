"""The pieces a StrategySpec is made of, and the vocabulary of the spec.

All frozen; numbers that may come from params are kept as written (a number, or a
``"$name"`` reference) so a spec can be re-run with other param values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .document import Interval
from .quantities import QuantityRules
from .talib_catalog import TALIB_FUNCTIONS

RULE_NAMES = ("enter_long", "exit_long", "enter_short", "exit_short")
ENTRY_RULES = ("enter_long", "enter_short")

SizingMode = Literal["fraction_of_equity", "fixed_units", "risk_per_trade"]

SIZING_MODES: Mapping[str, Interval] = MappingProxyType(
    {
        "fraction_of_equity": Interval(0, 1, low_open=True),
        "fixed_units": Interval(0, low_open=True),
        "risk_per_trade": Interval(0, 1, low_open=True, high_open=True),
    }
)
"""Sizing mode -> the values it accepts."""

ParamValue = int | float | str
"""A number, or a ``"$name"`` reference to one of the spec's params."""

PerSymbol = int | float | Mapping[str, int | float]
"""One number for every symbol, or a map from symbol to number where ``"*"`` stands for the others."""
ANY_SYMBOL = "*"


def resolve_value(value: ParamValue, params: Mapping[str, float]) -> float:
    """The number ``value`` stands for: itself, or the param a ``"$name"`` reference names."""
    return params[value[1:]] if isinstance(value, str) else value


@dataclass(frozen=True)
class Indicator:
    """A TA-Lib function applied to price series or to other indicators' outputs."""

    name: str
    function: str
    """TA-Lib function name, upper-case."""
    params: Mapping[str, ParamValue]
    """Every parameter of the function; those the document leaves out hold TA-Lib's defaults."""
    inputs: Mapping[str, str]
    """Every input of the function (``real``, ``high``, ...) -> the series it reads."""
    series: tuple[str, ...]
    """What rules call its outputs: ``("rsi",)``, or ``("macd.macd", "macd.macdsignal", "macd.macdhist")``."""

    def lookback(self, params: Mapping[str, float]) -> int:
        """Bars TA-Lib consumes before its first value, with ``$name`` references resolved from ``params``."""
        bars = TALIB_FUNCTIONS[self.function].lookback(self._talib_params(params))
        if bars is None:
            raise ValueError(f"TA-Lib rejects the parameters of indicator {self.name!r}")
        return bars

    def _talib_params(self, params: Mapping[str, float]) -> dict[str, float]:
        return {name: resolve_value(value, params) for name, value in self.params.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "params": dict(self.params), "inputs": dict(self.inputs)}


@dataclass(frozen=True)
class FractionDistance:
    """A distance from the entry price as a fraction of it: 0.02 is 2%."""

    fraction: ParamValue


@dataclass(frozen=True)
class AtrDistance:
    """A distance from the entry price of ``multiple`` times the value of indicator ``atr`` on the signal bar."""

    atr: str
    multiple: ParamValue


Distance = FractionDistance | AtrDistance


@dataclass(frozen=True)
class RiskLimits:
    """Limits on what a strategy may hold and lose (docs/strategy-spec.md, "Limits"); None: no limit.

    Plain numbers, like costs: they are the account's rules, not something to tune. Amounts are in
    the quote currency; losses are fractions of equity (0.05 is 5%).
    """

    max_position_notional: float | None = None
    """An entry worth more (size x fill price) is not taken."""
    max_total_exposure: float | None = None
    """Live: an entry that would take the positions of all the strategy's symbols above this value is not taken."""
    max_daily_loss: float | None = None
    """Equity at a close this fraction or more below the UTC day's starting equity stops the strategy."""
    max_drawdown: float | None = None
    """Equity at a close this fraction or more below its highest close stops the strategy."""
    max_orders_per_minute: int | None = None
    """Live: an entry after this many orders of the strategy in the last 60 seconds is not placed."""

    def stricter(self, other: RiskLimits) -> RiskLimits:
        """Each limit the smaller of the two where both set one, else whichever is set."""
        merged = {}
        for name in LIMIT_NAMES:
            given = [value for value in (getattr(self, name), getattr(other, name)) if value is not None]
            merged[name] = min(given) if given else None
        return RiskLimits(**merged)

    def to_dict(self) -> dict[str, float]:
        """The limits set, by name."""
        return {name: getattr(self, name) for name in LIMIT_NAMES if getattr(self, name) is not None}


LIMIT_NAMES = (
    "max_position_notional",
    "max_total_exposure",
    "max_daily_loss",
    "max_drawdown",
    "max_orders_per_minute",
)


@dataclass(frozen=True)
class Risk:
    """Exits that do not wait for a rule; each is a distance from the entry price (trailing: from the best price).
    And the limits that block entries or stop the strategy."""

    stop_loss: Distance | None = None
    take_profit: Distance | None = None
    trailing_stop: Distance | None = None
    limits: RiskLimits = field(default_factory=RiskLimits)


@dataclass(frozen=True)
class Sizing:
    """How large a position to open; ``value`` means what ``mode`` says (docs/strategy-spec.md, Sizing).

    ``step``, ``min_qty`` and ``min_notional`` describe the market, per symbol: sizes are
    whole multiples of the step, and an entry below either minimum is not taken.
    """

    mode: SizingMode = "fraction_of_equity"
    value: ParamValue = 1.0
    step: PerSymbol = 1
    min_qty: PerSymbol = 0
    min_notional: PerSymbol = 0

    def quantity_rules(self, symbol: str) -> QuantityRules:
        """The step and minimums that apply to ``symbol``: its own entry, else ``"*"``'s, else the default."""
        return QuantityRules.of(
            for_symbol(self.step, symbol, 1),
            for_symbol(self.min_qty, symbol, 0),
            for_symbol(self.min_notional, symbol, 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "value": self.value,
            **{name: _plain(getattr(self, name)) for name in ("step", "min_qty", "min_notional")},
        }


def for_symbol(value: PerSymbol, symbol: str, default: float) -> float:
    """What a per-symbol field says for ``symbol``: the number, its map's entry or ``"*"``'s, else ``default``."""
    if not isinstance(value, Mapping):
        return value
    return value.get(symbol, value.get(ANY_SYMBOL, default))


def _plain(value: PerSymbol) -> int | float | dict[str, int | float]:
    return dict(value) if isinstance(value, Mapping) else value


@dataclass(frozen=True)
class Costs:
    """What trading costs, as fractions: paid on every fill."""

    commission: float = 0.0
    """Fraction of the traded value paid on every fill."""
    slippage: float = 0.0
    """Fraction of the price every fill loses to the market."""
