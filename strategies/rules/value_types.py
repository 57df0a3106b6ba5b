"""The two kinds of value an expression can produce."""

from enum import Enum


class ValueType(Enum):
    """Rules are type-checked when compiled, so 'close + (a > b)' or 'rsi and 3' never get evaluated."""

    NUMBER = "a number"
    CONDITION = "a condition (true/false)"
