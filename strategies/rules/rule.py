"""Compiling a rule once and evaluating it on any number of bars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .compiler import Evaluator, compile_condition
from .errors import RuleError, RuleSyntaxError
from .nodes import Call, Node, Param, Series, walk
from .parser import parse


@dataclass(frozen=True)
class CompiledRule:
    """A rule parsed and type-checked once, ready to be evaluated on a whole history or a live window."""

    text: str
    name: str
    identifiers: frozenset[str]
    """Series the rule reads: price series, indicator names and ``indicator.output`` names."""
    params: frozenset[str]
    """Parameters the rule reads, without the ``$``."""
    max_offset: int
    """Most bars the rule looks back beyond the current one: ``close[2]`` needs 2, a cross needs 1 more."""
    _tree: Node = field(repr=False, compare=False)
    _evaluator: Evaluator = field(repr=False, compare=False)
    _columns: Mapping[str, int] = field(repr=False, compare=False)

    def warmup(self, series_warmup: Mapping[str, int]) -> int:
        """Leading bars on which some value the rule reads is missing, given each series' own leading gap.

        Series absent from ``series_warmup`` (price series) have none.
        """
        return _warmup(self._tree, series_warmup)

    def locate(self, reference: str) -> int:
        """The column (1-based) where a series name or ``$param`` first appears, to point at it in errors."""
        return self._columns[reference]

    def evaluate(self, series: Mapping[str, np.ndarray], params: Mapping[str, float]) -> np.ndarray:
        """A bool per bar: whether the rule holds on that bar.

        ``series`` maps names to equally long 1-D arrays (NaN = missing); extra entries are ignored.
        Division by zero gives inf/NaN quietly, and any comparison with NaN is false.
        2-D arrays of one shape are histories side by side, one per row (the live engine's
        symbols at a close), with bars along the last axis: one call evaluates them all.
        """
        arrays = {name: self._series(series, name) for name in self.identifiers}
        bars = self._bars(arrays or series)
        values = {name: np.float64(self._param(params, name)) for name in self.params}
        with np.errstate(all="ignore"):
            result = self._evaluator(arrays, values)
        return result if isinstance(result, np.ndarray) else np.full(bars, bool(result))

    def _bars(self, series: Mapping[str, np.ndarray]) -> tuple[int, ...]:
        # A rule of constants reads no series; it still gives one value per bar of those given.
        shapes = {np.shape(values) for values in series.values()}
        if len(shapes) != 1:
            raise ValueError(
                f"{self.name} needs series of one common length, got lengths "
                f"{sorted(shape[-1] if shape else 0 for shape in shapes)}"
            )
        return shapes.pop()

    def _series(self, series: Mapping[str, np.ndarray], name: str) -> np.ndarray:
        if name not in series:
            raise ValueError(f"{self.name} reads series {name!r}, which was not given")
        array = np.asarray(series[name], dtype=np.float64)
        if array.ndim not in (1, 2):
            raise ValueError(f"{self.name}: series {name!r} must be one- or two-dimensional, got shape {array.shape}")
        return array

    def _param(self, params: Mapping[str, float], name: str) -> float:
        if name not in params:
            raise ValueError(f"{self.name} reads parameter ${name}, which was not given")
        return params[name]


def compile_rule(text: str, rule_name: str = "rule") -> CompiledRule:
    """Parse, type-check and compile ``text``; raises RuleError naming ``rule_name`` and pointing at the problem."""
    if not isinstance(text, str):
        raise TypeError(f"{rule_name}: a rule is a string, got {type(text).__name__}")
    try:
        tree = parse(text)
    except RuleSyntaxError as problem:
        raise RuleError(rule_name, text, problem.position + 1, problem.reason, problem.hint) from None
    nodes = walk(tree)
    columns: dict[str, int] = {}
    for node in sorted(nodes, key=lambda node: node.start, reverse=True):
        if isinstance(node, Series):
            columns[node.name] = node.start + 1
        elif isinstance(node, Param):
            columns[f"${node.name}"] = node.start + 1
    return CompiledRule(
        text=text,
        name=rule_name,
        identifiers=frozenset(node.name for node in nodes if isinstance(node, Series)),
        params=frozenset(node.name for node in nodes if isinstance(node, Param)),
        max_offset=_warmup(tree, {}),
        _tree=tree,
        _evaluator=compile_condition(tree),
        _columns=columns,
    )


def _warmup(node: Node, series_warmup: Mapping[str, int]) -> int:
    if isinstance(node, Series):
        return series_warmup.get(node.name, 0) + node.offset
    extra = node.function.lookback if isinstance(node, Call) else 0
    return extra + max((_warmup(child, series_warmup) for child in node.children()), default=0)
