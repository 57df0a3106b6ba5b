"""Turns a type-checked syntax tree into a tree of numpy closures, once.

Evaluating a rule then only calls closures over whole arrays: the syntax is never walked
again, and the work per bar is done by numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .functions import CrossFunction, NumericFunction
from .nodes import Arithmetic, Call, Comparison, Logical, Negate, Node, Not, Number, Param, Series

Values = np.ndarray | np.float64
Evaluator = Callable[[Mapping[str, np.ndarray], Mapping[str, np.float64]], Values]
"""Called with (series by name, param values by name); returns an array or, for constants, a scalar."""


def _not_equal(left: Values, right: Values) -> Values:
    # numpy's != is True when a side is NaN; in a rule every comparison with a missing value is false.
    return np.logical_or(np.less(left, right), np.greater(left, right))


Operation = Callable[[Values, Values], Values]

_ARITHMETIC: dict[str, Operation] = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
_COMPARISONS: dict[str, Operation] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": _not_equal,
}
_OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_LOGICAL: dict[str, Operation] = {"and": np.logical_and, "or": np.logical_or}
_DE_MORGAN = {"and": "or", "or": "and"}


def shift(values: Values, bars: int) -> Values:
    """``values`` as they were ``bars`` bars ago, along the last axis (bars). Constants never change.

    The first ``bars`` entries have no past: they become NaN for numbers and False for conditions.
    """
    if bars == 0 or not isinstance(values, np.ndarray):
        return values
    shifted = np.empty_like(values)
    shifted[..., :bars] = False if values.dtype == np.bool_ else np.nan
    shifted[..., bars:] = values[..., : max(values.shape[-1] - bars, 0)]
    return shifted


def compile_condition(node: Node, negated: bool = False) -> Evaluator:
    """An evaluator giving a bool per bar.

    ``not`` is pushed down to the comparisons (``not (rsi > 70)`` becomes ``rsi <= 70``), so a
    comparison that involves a missing value is false whether or not it is negated: a condition
    that depends on a missing value never fires.
    """
    match node:
        case Not(operand=operand):
            return compile_condition(operand, not negated)
        case Comparison(operator=operator, left=left, right=right):
            return _combined(_comparison(operator, negated), compile_number(left), compile_number(right))
        case Logical(operator=operator, left=left, right=right):
            combine = _LOGICAL[_DE_MORGAN[operator] if negated else operator]
            return _combined(combine, compile_condition(left, negated), compile_condition(right, negated))
        case Call(function=CrossFunction() as cross, args=(a, b)):
            return _crossing(cross, compile_number(a), compile_number(b), negated)
    raise TypeError(f"not a condition: {node!r}")


def compile_number(node: Node) -> Evaluator:
    """An evaluator giving a float64 per bar (or one scalar for constants)."""
    match node:
        case Number(value=value):
            constant = np.float64(value)
            return lambda series, params: constant
        case Param(name=name):
            return lambda series, params: params[name]
        case Series(name=name, offset=offset):
            return lambda series, params: shift(series[name], offset)
        case Negate(operand=operand):
            inner = compile_number(operand)
            return lambda series, params: np.negative(inner(series, params))
        case Arithmetic(operator=operator, left=left, right=right):
            return _combined(_ARITHMETIC[operator], compile_number(left), compile_number(right))
        case Call(function=NumericFunction(ufunc=ufunc), args=args):
            evaluators = [compile_number(arg) for arg in args]
            return lambda series, params: ufunc(*(evaluate(series, params) for evaluate in evaluators))
    raise TypeError(f"not a number: {node!r}")


def _comparison(operator: str, negated: bool) -> Operation:
    return _COMPARISONS[_OPPOSITE[operator] if negated else operator]


def _combined(operation: Operation, left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda series, params: operation(left(series, params), right(series, params))


def _crossing(cross: CrossFunction, a: Evaluator, b: Evaluator, negated: bool) -> Evaluator:
    # crosses = (a[1] <before> b[1]) and (a <after> b); negated, De Morgan gives an 'or' of the opposites.
    # Comparing on every bar and shifting the result by one equals comparing the shifted values,
    # and shifts a bool array instead of two float arrays.
    before = _comparison(cross.before, negated)
    after = _comparison(cross.after, negated)
    combine = _LOGICAL["or" if negated else "and"]

    def evaluate(series: Mapping[str, np.ndarray], params: Mapping[str, np.float64]) -> Values:
        now_a, now_b = a(series, params), b(series, params)
        return combine(shift(before(now_a, now_b), 1), after(now_a, now_b))

    return evaluate
