"""Evaluating a spec's rules into entry and exit signals."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .spec import StrategySpec


def compute_signals(
    spec: StrategySpec, series: Mapping[str, np.ndarray], params: Mapping[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Rule name (``enter_long``, ...) -> a bool per bar, for every rule of ``spec``.

    ``series`` holds the price series and ``compute_indicators``' output (``{**ohlcv, **indicators}``).
    The rules were compiled once, when the spec was validated; ``params`` overrides the spec's params.
    """
    values = spec.resolved_params(params)
    return {name: rule.evaluate(series, values) for name, rule in spec.rules.items()}
