"""Reading a strategy document into the pieces of a StrategySpec, collecting every problem.

Sections are read in dependency order (params, indicators, rules, risk, sizing) and each
problem is reported once: a reference to something already reported as broken is not
reported again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .candles import SYMBOL_PATTERN, TIMEFRAME_MS
from .document import ABSENT, Interval, Issues, SpecError, did_you_mean, joined, json_type
from .quantities import MAX_STEP_DECIMALS, decimal_text, decimals, exact_decimal
from .rules import RESERVED_WORDS, CompiledRule, RuleError, compile_rule, rule_too_long
from .spec_parts import (
    ANY_SYMBOL,
    ENTRY_RULES,
    RULE_NAMES,
    SIZING_MODES,
    AtrDistance,
    Costs,
    Distance,
    FractionDistance,
    Indicator,
    ParamValue,
    PerSymbol,
    Risk,
    RiskLimits,
    Sizing,
    for_symbol,
    resolve_value,
)
from .talib_catalog import FUNCTION_NAMES, PRICE_SERIES, TalibFunction, talib_function

MAX_INDICATORS = 100

_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_FRACTION_BELOW_ONE = Interval(0, 1, low_open=True, high_open=True)
_POSITIVE = Interval(0, low_open=True)
_COST = Interval(0, 0.1, high_open=True)
_RISK_FRACTIONS = {"stop_loss": _FRACTION_BELOW_ONE, "take_profit": _POSITIVE, "trailing_stop": _FRACTION_BELOW_ONE}
_RISK_LIMITS = {
    "max_position_notional": _POSITIVE,
    "max_total_exposure": _POSITIVE,
    "max_daily_loss": _FRACTION_BELOW_ONE,
    "max_drawdown": _FRACTION_BELOW_ONE,
    "max_orders_per_minute": Interval(1),
}
"""``risk.limits``: the numbers each accepts (amounts in the quote currency, losses as fractions of equity)."""
_MARKET_LIMITS = {
    "step": (1, _POSITIVE, MAX_STEP_DECIMALS),
    "min_qty": (0, Interval(0), None),
    "min_notional": (0, Interval(0), None),
}
"""The sizing fields that describe the market, per symbol: their default, the numbers they accept, and the
decimal places they may have (a step must be an exact decimal for sizes to be exact multiples of it)."""


def read_spec(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The StrategySpec fields ``doc`` describes; raises SpecError listing every problem."""
    return _Reader().spec(doc)


def _series_of(indicator: str, outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The names rules use for an indicator's outputs."""
    return (indicator,) if len(outputs) == 1 else tuple(f"{indicator}.{output}" for output in outputs)


class _SeriesNames:
    """The series rules and indicator inputs can read: price series and indicator outputs."""

    def __init__(self, outputs: Mapping[str, tuple[str, ...] | None]) -> None:
        self.outputs = outputs
        """Indicator name -> TA-Lib output names, or None when its function is unknown (already reported)."""

    def indicator_of(self, reference: str) -> str | None:
        name = reference.partition(".")[0]
        return name if name in self.outputs else None

    def problem(self, reference: str) -> tuple[str, str] | None:
        """(reason, hint) when ``reference`` names no series, else None."""
        if reference in PRICE_SERIES:
            return None
        name, _, output = reference.partition(".")
        if name not in self.outputs:
            known = [*PRICE_SERIES, *(s for n, o in self.outputs.items() if o for s in _series_of(n, o))]
            return f"unknown series '{reference}'", did_you_mean(reference, known)
        outputs = self.outputs[name]
        if outputs is None or (len(outputs) == 1 and not output) or (len(outputs) > 1 and output in outputs):
            return None
        if len(outputs) == 1:
            return f"'{name}' has a single output", f"refer to it as '{name}'"
        choices = f"use one of {', '.join(_series_of(name, outputs))}"
        if output:
            return f"'{name}' has no output '{output}'", choices
        return f"'{name}' has several outputs", choices


@dataclass
class _IndicatorDraft:
    function: TalibFunction | None
    params: dict[str, ParamValue | None] = field(default_factory=dict)
    raw_inputs: Any = ABSENT


class _Reader:
    """Reads one document; section by section, collecting every problem before raising."""

    def __init__(self) -> None:
        self.issues = Issues()
        self.params: dict[str, float | None] = {}
        """Declared params -> value, None when the value is invalid (so references to it don't cascade)."""
        self.series = _SeriesNames({})
        self.stop_loss_given = False

    def spec(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        top = self.issues.fields(
            doc,
            "",
            required=("name", "symbols", "timeframe", "rules"),
            optional=("description", "params", "indicators", "risk", "sizing", "costs", "allow_reversal"),
        )
        if top is None:
            raise SpecError(self.issues.found)
        name = self.issues.string(top.get("name", ABSENT), "name", max_length=100)
        description = self.issues.string(top.get("description", ABSENT), "description", max_length=2000, multiline=True)
        symbols = self.symbols(top.get("symbols", ABSENT))
        timeframe = self.timeframe(top.get("timeframe", ABSENT))
        self.read_params(top.get("params", {}))
        indicators = self.indicators(top.get("indicators", {}))
        rules = self.rules(top.get("rules", ABSENT))
        risk = self.risk(top.get("risk", {}))
        sizing = self.sizing(top.get("sizing", ABSENT))
        costs = self.costs(top.get("costs", {}))
        allow_reversal = self.issues.boolean(top.get("allow_reversal", False), "allow_reversal")
        self.issues.raise_if_any()
        return {
            "name": name,
            "description": description,
            "symbols": symbols,
            "timeframe": timeframe,
            "params": MappingProxyType(dict(self.params)),
            "indicators": MappingProxyType(indicators),
            "rules": MappingProxyType(rules),
            "risk": risk,
            "sizing": sizing,
            "costs": costs,
            "allow_reversal": allow_reversal,
        }

    # -- scalars ---------------------------------------------------------------------------

    def symbols(self, raw: Any) -> tuple[str, ...]:
        items = self.issues.typed(raw, "symbols", (list, tuple), "an array of strings")
        if items is None:
            return ()
        if not items:
            self.issues.add("symbols", "needs at least one symbol")
        symbols: list[str] = []
        for index, item in enumerate(items):
            path = f"symbols[{index}]"
            text = self.issues.string(item, path)
            if text is None:
                continue
            symbol = text.upper()
            if not SYMBOL_PATTERN.fullmatch(symbol):
                self.issues.add(path, f"invalid symbol {text!r}: use 1 to 30 of A-Z, 0-9, '.', '_', '-'")
            elif symbol in symbols:
                self.issues.add(path, f"duplicate symbol {symbol!r}")
            else:
                symbols.append(symbol)
        return tuple(symbols)

    def timeframe(self, raw: Any) -> str | None:
        timeframe = self.issues.string(raw, "timeframe")
        if timeframe is not None and timeframe not in TIMEFRAME_MS:
            hint = f"use one of {', '.join(TIMEFRAME_MS)}"
            self.issues.add("timeframe", joined(f"unknown timeframe {timeframe!r}", hint))
        return timeframe

    def read_params(self, raw: Any) -> None:
        for name, value in self.issues.entries(raw, "params", "parameter").items():
            self.params[name] = self.issues.number(value, f"params.{name}")

    def value(self, raw: Any, path: str, interval: Interval | None = None, whole: bool = False) -> ParamValue | None:
        """A number or a ``"$name"`` reference to a declared param, checked against ``interval``.

        None when unusable, including when the param it names has an invalid value of its own.
        """
        if isinstance(raw, str):
            number = self.params.get(self.param_reference(raw, path) or "")
            shown = f"{raw} = {number:g}" if number is not None else ""
        else:
            number = self.issues.number(raw, path)
            shown = f"{number:g}" if number is not None else ""
        if number is None:
            return None
        if whole and number != int(number):
            self.issues.add(path, f"must be a whole number, got {shown}")
            return None
        if interval is not None and number not in interval:
            self.issues.add(path, f"must be {interval}, got {shown}")
            return None
        return raw

    def param_reference(self, raw: str, path: str) -> str | None:
        """The name in a ``"$name"`` reference to a declared param."""
        match = _PARAM_REF.fullmatch(raw)
        if match is None:
            self.issues.add(path, f'expected a number or a "$param" reference, got {raw!r}')
            return None
        if match.group(1) not in self.params:
            self.issues.add(path, joined(f"unknown parameter {raw}", self.param_hint(match.group(1))))
            return None
        return match.group(1)

    def param_hint(self, name: str) -> str:
        return did_you_mean(name, self.params) or f"declared params: {', '.join(self.params) or 'none'}"

    def resolved(self, value: ParamValue | None) -> float | None:
        return resolve_value(value, self.params) if value is not None else None

    # -- indicators ------------------------------------------------------------------------

    def indicators(self, raw: Any) -> dict[str, Indicator]:
        entries = self.issues.entries(raw, "indicators", "indicator")
        if len(entries) > MAX_INDICATORS:
            self.issues.add("indicators", f"at most {MAX_INDICATORS} indicators, got {len(entries)}")
        drafts = {name: self.indicator_draft(name, entry) for name, entry in entries.items()}
        drafts = {name: draft for name, draft in drafts.items() if draft is not None}
        self.series = _SeriesNames(
            {name: draft.function.outputs if draft.function else None for name, draft in drafts.items()}
        )
        inputs = {name: self.indicator_inputs(name, draft) for name, draft in drafts.items()}
        reads = {
            name: [self.series.indicator_of(source) for source in sources.values()] for name, sources in inputs.items()
        }
        order = self.dependency_order(reads)
        return {
            name: Indicator(
                name=name,
                function=drafts[name].function.name,
                params=MappingProxyType(drafts[name].params),
                inputs=MappingProxyType(inputs[name]),
                series=_series_of(name, drafts[name].function.outputs),
            )
            for name in order
            if drafts[name].function is not None
        }

    def indicator_draft(self, name: str, raw: Any) -> _IndicatorDraft | None:
        path = f"indicators.{name}"
        if name.lower() in {*PRICE_SERIES, *RESERVED_WORDS}:
            self.issues.add(path, f"'{name}' is reserved: it means something else in rules")
            return None
        entry = self.issues.fields(raw, path, required=("function",), optional=("params", "inputs"))
        if entry is None:
            return _IndicatorDraft(function=None)
        function = self.talib_function(entry.get("function", ABSENT), f"{path}.function")
        if function is None:
            return _IndicatorDraft(function=None)
        return _IndicatorDraft(
            function=function,
            params=self.indicator_params(function, entry.get("params", {}), f"{path}.params"),
            raw_inputs=entry.get("inputs", {}),
        )

    def talib_function(self, raw: Any, path: str) -> TalibFunction | None:
        name = self.issues.string(raw, path)
        if name is None:
            return None
        function = talib_function(name)
        if function is None:
            hint = did_you_mean(name.upper(), FUNCTION_NAMES)
            self.issues.add(path, joined(f"unknown TA-Lib function {name!r}", hint))
        return function

    def indicator_params(self, function: TalibFunction, raw: Any, path: str) -> dict[str, ParamValue | None]:
        values: dict[str, ParamValue | None] = dict(function.params)
        for key, value in (self.issues.typed(raw, path, Mapping, "an object") or {}).items():
            if key in function.params:
                values[key] = self.value(value, f"{path}.{key}", whole=function.wants_integer(key))
            else:
                accepted = f"{function.name} takes: {', '.join(function.params) or 'no parameters'}"
                hint = did_you_mean(str(key), function.params) or accepted
                self.issues.add(f"{path}.{key}", joined(f"unknown parameter {key!r}", hint))
        numbers = {key: self.resolved(value) for key, value in values.items()}
        if None not in numbers.values() and function.lookback(numbers) is None:
            given = ", ".join(f"{key}={number:g}" for key, number in numbers.items())
            self.issues.add(path, f"TA-Lib rejects {function.name} with {given}")
        return values

    def indicator_inputs(self, name: str, draft: _IndicatorDraft) -> dict[str, str]:
        """Input argument -> series, TA-Lib's defaults completed by the document's choices."""
        path = f"indicators.{name}.inputs"
        function = draft.function
        if function is None:
            return {}
        sources: dict[str, str | None] = dict(function.inputs)
        chosen: set[str] = set()
        for key, raw in (self.issues.typed(draft.raw_inputs, path, Mapping, "an object") or {}).items():
            argument = function.input_name(str(key))
            if argument is None:
                accepted = ", ".join(function.inputs)
                self.issues.add(f"{path}.{key}", f"unknown input {key!r}; {function.name} reads: {accepted}")
            elif argument in chosen:
                self.issues.add(f"{path}.{key}", f"input '{argument}' is given twice")
            else:
                chosen.add(argument)
                sources[argument] = self.series_name(raw, f"{path}.{key}")
        for argument, source in sources.items():
            if source is None and argument not in chosen:
                reason = f"{function.name} needs input '{argument}' mapped to a series"
                self.issues.add(path, joined(reason, "TA-Lib has no default"))
        return {argument: source for argument, source in sources.items() if source is not None}

    def series_name(self, raw: Any, path: str) -> str | None:
        name = self.issues.string(raw, path)
        problem = self.series.problem(name) if name is not None else None
        if problem:
            self.issues.add(path, joined(*problem))
        return name if not problem else None

    def dependency_order(self, dependencies: Mapping[str, list[str | None]]) -> list[str]:
        """Indicator names, each after those it reads (otherwise in document order); cycles are reported."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == "active":
                cycle = [*trail[trail.index(name) :], name]
                self.issues.add(f"indicators.{name}.inputs", f"inputs form a cycle: {' -> '.join(cycle)}")
            if name in state:
                return
            state[name] = "active"
            for dependency in dependencies.get(name, ()):
                if dependency is not None:
                    visit(dependency, [*trail, name])
            state[name] = "done"
            order.append(name)

        for name in dependencies:
            visit(name, [])
        return order

    # -- rules -----------------------------------------------------------------------------

    def rules(self, raw: Any) -> dict[str, CompiledRule]:
        given = self.issues.fields(raw, "rules", optional=RULE_NAMES)
        if given is None:
            return {}
        if not any(name in given for name in ENTRY_RULES):
            self.issues.add("rules", f"needs at least one entry rule: {' or '.join(ENTRY_RULES)}")
        for side in ("long", "short"):
            if f"exit_{side}" in given and f"enter_{side}" not in given:
                self.issues.add(f"rules.exit_{side}", f"there is no enter_{side} rule, so nothing to exit")
        rules = {}
        for name in RULE_NAMES:
            rule = self.rule(given.get(name, ABSENT), f"rules.{name}")
            if rule is not None:
                rules[name] = rule
        return rules

    def rule(self, raw: Any, path: str) -> CompiledRule | None:
        text = self.issues.string(raw, path, multiline=True)
        if text is None:
            return None
        too_long = rule_too_long(text)
        if too_long:
            self.issues.add(path, too_long)
            return None
        try:
            rule = compile_rule(text, path)
        except RuleError as error:
            self.issues.add(path, error.detail)
            return None
        problems = {name: self.series.problem(name) for name in rule.identifiers}
        for name in rule.params - self.params.keys():
            problems[f"${name}"] = (f"unknown parameter ${name}", self.param_hint(name))
        for reference in sorted(problems, key=rule.locate):
            if problems[reference]:
                reason, hint = problems[reference]
                self.issues.add(path, RuleError(path, text, rule.locate(reference), reason, hint).detail)
        return rule

    # -- risk, sizing, costs ---------------------------------------------------------------

    def risk(self, raw: Any) -> Risk:
        given = self.issues.fields(raw, "risk", optional=(*_RISK_FRACTIONS, "limits")) or {}
        self.stop_loss_given = "stop_loss" in given
        return Risk(
            **{
                key: self.distance(given[key], f"risk.{key}", fractions)
                for key, fractions in _RISK_FRACTIONS.items()
                if key in given
            },
            limits=self.limits(given.get("limits", {})),
        )

    def limits(self, raw: Any) -> RiskLimits:
        """``risk.limits``: plain numbers (no ``$param``), each in its range; a count of orders a whole number."""
        given = self.issues.fields(raw, "risk.limits", optional=tuple(_RISK_LIMITS)) or {}
        numbers = {}
        for key, interval in _RISK_LIMITS.items():
            path = f"risk.limits.{key}"
            if isinstance(given.get(key), str):
                self.issues.add(path, f"expected a plain number, got {given[key]!r}: limits take no $param references")
                continue
            number = self.issues.number(given.get(key, ABSENT), path, interval)
            if key == "max_orders_per_minute" and number is not None and number != int(number):
                self.issues.add(path, f"must be a whole number, got {number:g}")
                number = None
            numbers[key] = int(number) if key == "max_orders_per_minute" and number is not None else number
        return RiskLimits(**numbers)

    def distance(self, raw: Any, path: str, fractions: Interval) -> Distance | None:
        given = self.issues.fields(raw, path, optional=("fraction", "atr", "multiple"))
        if given is None:
            return None
        if "fraction" in given:
            if "atr" in given or "multiple" in given:
                self.issues.add(path, "give either fraction, or atr and multiple, not both")
            fraction = self.value(given["fraction"], f"{path}.fraction", fractions)
            return FractionDistance(fraction) if fraction is not None else None
        if "atr" not in given and "multiple" not in given:
            self.issues.add(path, 'give either {"fraction": 0.02} or {"atr": "<indicator>", "multiple": 2}')
            return None
        for key in ("atr", "multiple"):
            if key not in given:
                self.issues.add(f"{path}.{key}", "missing required field")
        atr = self.atr_series(given.get("atr", ABSENT), f"{path}.atr")
        multiple = self.value(given.get("multiple", ABSENT), f"{path}.multiple", _POSITIVE)
        return AtrDistance(atr, multiple) if atr is not None and multiple is not None else None

    def atr_series(self, raw: Any, path: str) -> str | None:
        if isinstance(raw, str) and raw in PRICE_SERIES:
            hint = "name one measured in price units, like ATR"
            self.issues.add(path, joined(f"'{raw}' is a price, not an indicator", hint))
            return None
        return self.series_name(raw, path)

    def sizing(self, raw: Any) -> Sizing:
        if raw is ABSENT:
            return Sizing()
        given = self.issues.fields(raw, "sizing", optional=("mode", "value", *_MARKET_LIMITS)) or {}
        mode = self.issues.string(given.get("mode", Sizing.mode), "sizing.mode")
        if mode is not None and mode not in SIZING_MODES:
            self.issues.add("sizing.mode", f"unknown mode {mode!r}; use one of {', '.join(SIZING_MODES)}")
            mode = None
        if mode == "risk_per_trade" and not self.stop_loss_given:
            reason = "risk_per_trade needs risk.stop_loss: it sizes positions by the distance to the stop"
            self.issues.add("sizing.mode", reason)
        if "mode" in given and "value" not in given:
            self.issues.add("sizing.value", "missing required field")
        value = self.value(given.get("value", Sizing.value), "sizing.value", SIZING_MODES.get(mode))
        limits = {
            name: self.per_symbol(given.get(name, default), f"sizing.{name}", interval, places)
            for name, (default, interval, places) in _MARKET_LIMITS.items()
        }
        if all(limit is not None for limit in limits.values()):
            self.min_qty_on_steps(limits["step"], limits["min_qty"])
        return Sizing(mode, value, **limits) if mode is not None and value is not None else Sizing()

    def per_symbol(self, raw: Any, path: str, interval: Interval, places: int | None) -> PerSymbol | None:
        """A number, or an object from symbol (or ``"*"``, every other symbol) to number; each in ``interval``
        and, unless ``places`` is None, a decimal of at most that many places."""
        if isinstance(raw, Mapping):
            if not raw:
                self.issues.add(path, f'needs at least one symbol, or "{ANY_SYMBOL}" for every symbol')
            numbers: dict[str, int | float] = {}
            for key, item in raw.items():
                symbol = ANY_SYMBOL if key == ANY_SYMBOL else str(key).upper()
                if symbol != ANY_SYMBOL and not SYMBOL_PATTERN.fullmatch(symbol):
                    hint = f'use 1 to 30 of A-Z, 0-9, ".", "_", "-", or "{ANY_SYMBOL}" for every other symbol'
                    self.issues.add(f"{path}.{key}", f"invalid symbol {key!r}: {hint}")
                elif symbol in numbers:
                    self.issues.add(f"{path}.{key}", f"duplicate symbol {symbol!r}")
                else:
                    number = self.market_number(item, f"{path}.{key}", interval, places)
                    if number is not None:
                        numbers[symbol] = number
            return MappingProxyType(numbers) if len(numbers) == len(raw) else None
        if json_type(raw) != "number":
            self.issues.add(path, f"expected a number or an object of symbol -> number, got {json_type(raw)}")
            return None
        return self.market_number(raw, path, interval, places)

    def market_number(self, raw: Any, path: str, interval: Interval, places: int | None) -> int | float | None:
        number = self.issues.number(raw, path, interval)
        if number is not None and places is not None and decimals(exact_decimal(number)) > places:
            self.issues.add(path, f"must have at most {places} decimal places, got {number!r}")
            return None
        return number

    def min_qty_on_steps(self, step: PerSymbol, min_qty: PerSymbol) -> None:
        """Report each minimum quantity that is not a whole number of its symbol's steps.

        Checked for every symbol either map names (``"*"`` included), or once when both are numbers.
        """
        named = [value for value in (step, min_qty) if isinstance(value, Mapping)]
        symbols = sorted({symbol for value in named for symbol in value}) if named else [ANY_SYMBOL]
        for symbol in symbols:
            exact_step = exact_decimal(for_symbol(step, symbol, 1))
            wanted = exact_decimal(for_symbol(min_qty, symbol, 0))
            if wanted % exact_step:
                named_here = isinstance(min_qty, Mapping) and symbol in min_qty
                whose = f" for {symbol}" if symbol != ANY_SYMBOL else " for every other symbol" if named else ""
                self.issues.add(
                    f"sizing.min_qty.{symbol}" if named_here else "sizing.min_qty",
                    f"{decimal_text(wanted)} is not a multiple of the step {decimal_text(exact_step)}{whose}",
                )

    def costs(self, raw: Any) -> Costs:
        given = self.issues.fields(raw, "costs", optional=("commission", "slippage")) or {}
        return Costs(
            commission=self.issues.number(given.get("commission", 0.0), "costs.commission", _COST),
            slippage=self.issues.number(given.get("slippage", 0.0), "costs.slippage", _COST),
        )
