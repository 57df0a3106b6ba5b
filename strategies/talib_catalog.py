"""TA-Lib's own metadata, reshaped for validating and running indicators.

Everything here is read from TA-Lib at import time (``talib.get_functions()`` and
``talib.abstract.Function(name).info``), so a newer TA-Lib with more functions or
parameters is picked up without code changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import talib
from talib import abstract

PRICE_SERIES: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_SCALE_GROUPS = frozenset({"Overlap Studies", "Price Transform"})
_INT_RANGE = (-(2**31) + 1, 2**31 - 1)
"""A C int's range, less INT_MIN, which TA-Lib reads as "use the default"."""
_UNBOUNDED = 1e30
"""A real parameter accepted beyond this is reported as unbounded (TA-Lib's limit there is about 3e37)."""

Number = int | float


@dataclass(frozen=True)
class TalibFunction:
    """One TA-Lib function: its inputs, parameters (with defaults) and outputs."""

    name: str
    inputs: Mapping[str, str | None]
    """Input argument name (as in ``talib.SMA(real, ...)``) -> default price series, or None when TA-Lib has none."""
    params: Mapping[str, Number]
    """Parameter name -> TA-Lib default. An ``int`` default means TA-Lib only accepts whole numbers."""
    outputs: tuple[str, ...]
    group: str = ""
    """TA-Lib's function group (``Overlap Studies``, ``Momentum Indicators``, ...)."""
    display_name: str = ""

    @property
    def pane(self) -> str:
        """Where a chart draws it: ``price`` for what shares the price scale (moving averages, bands, price
        transforms), ``separate`` for an oscillator or a count in a pane of its own."""
        return "price" if self.group in PRICE_SCALE_GROUPS else "separate"

    def bounds(self, param: str) -> tuple[Number | None, Number | None]:
        """The lowest and highest value TA-Lib accepts for ``param`` (the others at their defaults); None where
        it takes any double. Found by bisection on TA-Lib's own check, since its Python API does not expose them."""
        return _bounds(self.name, param)

    def input_name(self, name: str) -> str | None:
        """The input argument ``name`` refers to, or None.

        TA-Lib's abstract API calls real-valued inputs ``price``/``price0``/``price1`` while its
        function signatures call them ``real``/``real0``/``real1``; both spellings are accepted.
        """
        argument = _argument_name(name)
        return argument if argument in self.inputs else None

    def wants_integer(self, param: str) -> bool:
        return isinstance(self.params[param], int)

    def lookback(self, params: Mapping[str, float]) -> int | None:
        """Bars TA-Lib consumes before the first output value, or None if it rejects ``params``."""
        try:
            bars = _lookback(self.name, tuple(sorted(self._typed(params).items())))
        except OverflowError:  # beyond a C int or double: TA-Lib would reject it too
            return None
        return bars if bars >= 0 else None

    def bound(self, params: Mapping[str, float]) -> Callable[[Sequence[np.ndarray]], list[np.ndarray]]:
        """The function with ``params`` typed once, run as ``bound(params)(inputs)``: every output comes back
        as float64, in ``outputs`` order. Bound once per spec, it runs on many inputs (the live engine
        runs each strategy's indicators on every symbol at every close)."""
        function, typed = getattr(talib, self.name), self._typed(params)

        def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
            result = function(*inputs, **typed)
            return [
                np.asarray(output, dtype=np.float64) for output in (result if isinstance(result, tuple) else (result,))
            ]

        return run

    def _typed(self, params: Mapping[str, float]) -> dict[str, Number]:
        # TA-Lib refuses a float for an integer parameter and an int for a real one.
        return {name: int(value) if self.wants_integer(name) else float(value) for name, value in params.items()}


def talib_function(name: str) -> TalibFunction | None:
    """The TA-Lib function called ``name`` (any case), or None if TA-Lib has no such function."""
    return TALIB_FUNCTIONS.get(name.upper())


FUNCTION_NAMES: tuple[str, ...] = tuple(sorted(talib.get_functions()))


def _argument_name(abstract_name: str) -> str:
    return "real" + abstract_name.removeprefix("price") if abstract_name.startswith("price") else abstract_name


def _describe(name: str) -> TalibFunction:
    info = abstract.Function(name).info
    inputs: dict[str, str | None] = {}
    for key, source in info["input_names"].items():
        if isinstance(source, list):  # a group of price series, e.g. "prices": ["high", "low", "close"]
            inputs.update((series, series) for series in source)
        else:
            inputs[_argument_name(key)] = source if source in PRICE_SERIES else None
    return TalibFunction(
        name=name,
        inputs=MappingProxyType(inputs),
        params=MappingProxyType(dict(info["parameters"])),
        outputs=tuple(info["output_names"]),
        group=info["group"],
        display_name=info["display_name"],
    )


@lru_cache(maxsize=4096)
def _lookback(name: str, params: tuple[tuple[str, Number], ...]) -> int:
    function = abstract.Function(name)
    function.parameters = dict(params)
    return int(function.lookback)


TALIB_FUNCTIONS: Mapping[str, TalibFunction] = MappingProxyType({name: _describe(name) for name in FUNCTION_NAMES})
"""Upper-case name -> function, for every function this TA-Lib build has."""


@lru_cache(maxsize=4096)
def _bounds(name: str, param: str) -> tuple[Number | None, Number | None]:
    function = TALIB_FUNCTIONS[name]
    default = function.params[param]

    def accepted(value: Number) -> bool:
        return function.lookback({**function.params, param: value}) is not None

    if function.wants_integer(param):
        return _edge(accepted, default, _INT_RANGE[0], whole=True), _edge(accepted, default, _INT_RANGE[1], whole=True)
    low, high = (_edge(accepted, default, limit, whole=False) for limit in (-1e38, 1e38))
    # An open bound (acceleration > 0) bisects to a tiny number: report the bound itself.
    low, high = (0.0 if abs(x) < 1e-12 else float(f"{x:.12g}") for x in (low, high))
    return (None if low < -_UNBOUNDED else low), (None if high > _UNBOUNDED else high)


def _edge(accepted: Callable[[Number], bool], inside: Number, outside: Number, whole: bool) -> Number:
    """The accepted value nearest ``outside``, between ``inside`` (accepted) and ``outside``, by bisection."""
    if accepted(outside):
        return outside
    for _ in range(200):
        middle = (inside + outside) // 2 if whole else (inside + outside) / 2
        if middle in (inside, outside):
            break
        if accepted(middle):
            inside = middle
        else:
            outside = middle
    return inside
