"""Computing a spec's indicators with TA-Lib."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .spec import StrategySpec


def compute_indicators(
    spec: StrategySpec, ohlcv: Mapping[str, np.ndarray], params: Mapping[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Every indicator series of ``spec`` as float64 arrays, keyed as rules read them (``fast``, ``macd.macdsignal``).

    ``ohlcv`` maps price series names to equally long 1-D arrays; only those the indicators read
    are needed. ``params`` overrides the spec's params (the spec is re-validated with them).
    Values before an indicator's lookback are NaN, even for TA-Lib functions that return integers.
    """
    if params:
        spec = spec.with_params(params)
    values = spec.resolved_params()
    leading = spec.lookbacks()
    series: dict[str, np.ndarray] = {}
    prices = _Prices(ohlcv)
    for indicator in spec.indicators.values():
        inputs = [series[source] if source in series else prices[source] for source in indicator.inputs.values()]
        for name, output in zip(indicator.series, indicator.compute(inputs, values), strict=True):
            output[: leading[name]] = np.nan  # TA-Lib fills integer outputs (e.g. candlesticks) with 0 instead
            series[name] = output
    return series


class _Prices:
    """The price arrays indicators read, converted to contiguous float64 once and checked for equal length."""

    def __init__(self, ohlcv: Mapping[str, np.ndarray]) -> None:
        self.ohlcv = ohlcv
        self.converted: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.converted:
            if name not in self.ohlcv:
                raise ValueError(f"indicators read the {name!r} series, which was not given")
            array = np.ascontiguousarray(self.ohlcv[name], dtype=np.float64)
            if array.ndim != 1:
                raise ValueError(f"the {name!r} series must be one-dimensional, got shape {array.shape}")
            lengths = {len(other) for other in self.converted.values()} - {len(array)}
            if lengths:
                raise ValueError(f"the {name!r} series has {len(array)} bars, others have {lengths.pop()}")
            self.converted[name] = array
        return self.converted[name]
