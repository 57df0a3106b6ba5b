"""The strategy specification: a JSON document, checked all at once into frozen dataclasses.

``validate_spec`` is the only way to build a ``StrategySpec``, so holding one means every
name resolves, every TA-Lib call is valid and every rule compiles. The full reference is
docs/strategy-spec.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from .candles import TIMEFRAME_MS
from .document import Issues, SpecError, SpecIssue, did_you_mean, joined
from .rules import CompiledRule
from .spec_parts import (
    AtrDistance,
    Costs,
    Distance,
    FractionDistance,
    Indicator,
    ParamValue,
    Risk,
    RiskLimits,
    Sizing,
    resolve_value,
)
from .spec_validation import read_spec
from .talib_catalog import PRICE_SERIES, TALIB_FUNCTIONS

__all__ = [
    "PRICE_SERIES",
    "TIMEFRAME_MS",
    "AtrDistance",
    "Costs",
    "Distance",
    "FractionDistance",
    "Indicator",
    "ParamValue",
    "Risk",
    "RiskLimits",
    "Sizing",
    "SpecError",
    "SpecIssue",
    "StrategySpec",
    "resolve_value",
    "validate_spec",
]


class IndicatorRun(NamedTuple):
    """An indicator ready to run: its resolved, sorted params and its TA-Lib function bound to them."""

    indicator: Indicator
    params: tuple[tuple[str, float], ...]
    run: Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@dataclass(frozen=True)
class StrategySpec:
    """A validated strategy. Build it with ``validate_spec``; all fields are read-only."""

    name: str
    symbols: tuple[str, ...]
    timeframe: str
    params: Mapping[str, float]
    indicators: Mapping[str, Indicator]
    """In dependency order: an indicator comes after every indicator it reads."""
    rules: Mapping[str, CompiledRule]
    """Keyed ``enter_long``, ``exit_long``, ``enter_short``, ``exit_short``; compiled once, here."""
    risk: Risk = field(default_factory=Risk)
    sizing: Sizing = field(default_factory=Sizing)
    costs: Costs = field(default_factory=Costs)
    allow_reversal: bool = False
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The normalised document: defaults filled in, JSON-able, and valid for ``validate_spec``."""
        described = {"description": self.description} if self.description is not None else {}
        return {
            "name": self.name,
            **described,
            "symbols": list(self.symbols),
            "timeframe": self.timeframe,
            "params": dict(self.params),
            "indicators": {name: indicator.to_dict() for name, indicator in self.indicators.items()},
            "rules": {name: rule.text for name, rule in self.rules.items()},
            "risk": asdict(self.risk, dict_factory=lambda items: {k: v for k, v in items if v not in (None, {})}),
            "sizing": self.sizing.to_dict(),
            "costs": asdict(self.costs),
            "allow_reversal": self.allow_reversal,
        }

    def resolved_params(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The values ``$name`` references stand for: the spec's params with ``overrides`` applied."""
        issues = Issues()
        for name, value in (overrides or {}).items():
            if name in self.params:
                issues.number(value, f"params.{name}")
            else:
                issues.add(f"params.{name}", joined("unknown parameter", did_you_mean(name, self.params)))
        issues.raise_if_any()
        return {**self.params, **(overrides or {})}

    def with_params(self, overrides: Mapping[str, float]) -> StrategySpec:
        """The same strategy with some params changed, accepted exactly when ``validate_spec`` would accept it.

        Param values don't change what a spec is made of (names, inputs, compiled rules), so only
        what reads a changed value needs checking again. A value read only by indicators (and rules,
        which accept any number) is checked here against TA-Lib directly, which is what keeps a
        sweep's many parameter sets cheap: full validation recompiles every rule and costs more than
        the backtest. A value risk or sizing reads (their limits are the validator's), or one TA-Lib
        refuses, goes through full validation, which returns the spec or raises SpecError with every
        problem worded as usual.
        """
        values = self.resolved_params(overrides)
        changed = {name for name, value in overrides.items() if value != self.params[name]}
        if changed.isdisjoint(self._params_read_by_risk_and_sizing()) and all(
            _talib_accepts(indicator, values)
            for indicator in self.indicators.values()
            if any(isinstance(value, str) and value[1:] in changed for value in indicator.params.values())
        ):
            return replace(self, params=MappingProxyType(values))
        return validate_spec({**self.to_dict(), "params": values})

    def _params_read_by_risk_and_sizing(self) -> set[str]:
        values = [self.sizing.value]
        for distance in (self.risk.stop_loss, self.risk.take_profit, self.risk.trailing_stop):
            if isinstance(distance, FractionDistance):
                values.append(distance.fraction)
            elif isinstance(distance, AtrDistance):
                values.append(distance.multiple)
        return {value[1:] for value in values if isinstance(value, str)}

    def lookbacks(self) -> dict[str, int]:
        """Series name -> leading bars without a value: TA-Lib's lookback, added up along chained inputs."""
        return dict(self._lookbacks)

    @cached_property
    def _lookbacks(self) -> dict[str, int]:
        # Worked out once per spec (params included): a backtest asks several times, a sweep once per set.
        leading = dict.fromkeys(PRICE_SERIES, 0)
        params = self.resolved_params()
        for indicator in self.indicators.values():
            first = indicator.lookback(params) + max(leading[source] for source in indicator.inputs.values())
            leading.update(dict.fromkeys(indicator.series, first))
        return leading

    def indicator_calls(self) -> list[IndicatorRun]:
        """Each indicator with its TA-Lib params resolved, sorted (with its inputs, what its outputs depend on),
        and the TA-Lib function bound to them."""
        return list(self._indicator_calls)

    @cached_property
    def _indicator_calls(self) -> list[IndicatorRun]:
        # Once per spec: the live engine asks for every symbol at every close.
        values = self.resolved_params()
        calls = []
        for indicator in self.indicators.values():
            params = {name: resolve_value(value, values) for name, value in indicator.params.items()}
            calls.append(
                IndicatorRun(
                    indicator, tuple(sorted(params.items())), TALIB_FUNCTIONS[indicator.function].bound(params)
                )
            )
        return calls

    @property
    def warmup_bars(self) -> int:
        """Leading bars on which some indicator or some value a rule reads is still missing.

        Index ``warmup_bars`` is the first bar on which every rule is fully defined, so a live window
        needs at least ``warmup_bars + 1`` bars (more for indicators TA-Lib marks as unstable, like EMA).
        """
        leading = self.lookbacks()
        return max(*leading.values(), *(rule.warmup(leading) for rule in self.rules.values()))


def _talib_accepts(indicator: Indicator, params: Mapping[str, float]) -> bool:
    """Whether validation would accept ``indicator`` with ``params``: whole numbers where TA-Lib wants
    them, and values TA-Lib computes a lookback for."""
    function = TALIB_FUNCTIONS[indicator.function]
    numbers = {name: resolve_value(value, params) for name, value in indicator.params.items()}
    whole = all(number == int(number) for name, number in numbers.items() if function.wants_integer(name))
    return whole and function.lookback(numbers) is not None


def validate_spec(doc: Mapping[str, Any]) -> StrategySpec:
    """Check a strategy document and return it typed and normalised.

    Raises SpecError listing every problem found, each with the path of the offending field.
    """
    return StrategySpec(**read_spec(doc))
