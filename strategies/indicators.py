"""Computing a spec's indicators with TA-Lib."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np

from .spec import PRICE_SERIES, StrategySpec


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
    return keyed_indicators(spec, ohlcv, memo={})[0]


IndicatorCall = tuple[str, tuple, tuple]
"""What determines an indicator's outputs: TA-Lib function, resolved params, input series keys."""


def keyed_indicators(
    spec: StrategySpec, ohlcv: Mapping[str, np.ndarray], memo: dict[IndicatorCall, list[np.ndarray]]
) -> tuple[dict[str, np.ndarray], dict[str, Hashable]]:
    """Indicator series by name, and each series' key (what determines its values).

    ``memo`` maps an :data:`IndicatorCall` to its outputs. Passing the same dict for many
    specs or param sets on the same candles computes each distinct call once, chained
    indicators included (a sweep's shared indicators); the keys let callers cache
    rule results the same way.
    """
    keys: dict[str, Hashable] = {name: name for name in PRICE_SERIES}
    series: dict[str, np.ndarray] = {}
    prices = _Prices(ohlcv)
    leading = spec.lookbacks()
    for indicator, params, run in spec.indicator_calls():
        call = (
            indicator.function,
            params,
            tuple((argument, keys[source]) for argument, source in indicator.inputs.items()),
        )
        if call not in memo:
            inputs = [series[source] if source in series else prices[source] for source in indicator.inputs.values()]
            outputs = run(inputs)
            for name, output in zip(indicator.series, outputs, strict=True):
                output[: leading[name]] = np.nan  # TA-Lib fills integer outputs (e.g. candlesticks) with 0 instead
            memo[call] = outputs
        for position, name in enumerate(indicator.series):
            series[name] = memo[call][position]
            keys[name] = (call, position)
    return series, keys


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
