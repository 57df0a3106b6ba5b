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
    )


@lru_cache(maxsize=4096)
def _lookback(name: str, params: tuple[tuple[str, Number], ...]) -> int:
    function = abstract.Function(name)
    function.parameters = dict(params)
    return int(function.lookback)


TALIB_FUNCTIONS: Mapping[str, TalibFunction] = MappingProxyType({name: _describe(name) for name in FUNCTION_NAMES})
"""Upper-case name -> function, for every function this TA-Lib build has."""
