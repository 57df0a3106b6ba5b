"""The functions a rule can call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .value_types import ValueType


@dataclass(frozen=True)
class NumericFunction:
    """An element-wise function of numbers; missing (NaN) in gives missing out."""

    name: str
    arity: int
    ufunc: Callable[..., np.ndarray]
    returns = ValueType.NUMBER
    lookback = 0


@dataclass(frozen=True)
class CrossFunction:
    """``a`` crosses ``b``: ``a[1] <before> b[1]`` on the previous bar and ``a <after> b`` on this one."""

    name: str
    before: str
    after: str
    arity = 2
    returns = ValueType.CONDITION
    lookback = 1


Function = NumericFunction | CrossFunction

FUNCTIONS: Mapping[str, Function] = MappingProxyType(
    {
        function.name: function
        for function in (
            CrossFunction("crosses_above", before="<", after=">"),
            CrossFunction("crosses_below", before=">", after="<"),
            NumericFunction("abs", 1, np.abs),
            NumericFunction("min", 2, np.minimum),
            NumericFunction("max", 2, np.maximum),
        )
    }
)
