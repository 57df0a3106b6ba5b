"""What a chart of a strategy draws: its candles, merged down to a screen's worth, and its indicators.

Indicators are computed by the engine's own code (``compute_indicators``) on the
whole history the strategy ran on, and only then cut to the window shown, so the
chart shows exactly the values the rules read, warm-up included. Merged candles
follow the OHLCV rules (``strategies.candles.resample``); an indicator is shown
at a merged candle's close: its value at the last bar merged into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .candles import TIMEFRAME_MS, Candles, group_ends, merge_period, period_starts, resample
from .indicators import compute_indicators
from .spec import StrategySpec
from .talib_catalog import TALIB_FUNCTIONS


@dataclass(frozen=True, eq=False)
class ChartIndicator:
    """One indicator of a spec as a chart draws it: which function, with which params, in which pane."""

    function: str
    params: Mapping[str, float]
    """Resolved: ``$name`` references replaced by the spec's values."""
    pane: str
    """``price`` (on the candles) or ``separate`` (a pane of its own): ``TalibFunction.pane``."""
    outputs: Mapping[str, np.ndarray]
    """TA-Lib output name (``real``, ``macdsignal``) -> a value per chart candle, NaN during warm-up."""


@dataclass(frozen=True, eq=False)
class Chart:
    candles: Candles
    """The candles drawn: the bars of the window, merged when there are more than ``max_bars``."""
    period_ms: int
    """How long each drawn candle is: the timeframe, or a whole multiple of it once merged."""
    bars: int
    """Bars of the timeframe in the window, before merging."""
    indicators: Mapping[str, ChartIndicator]


def strategy_chart(
    spec: StrategySpec, candles: Candles, start_ms: int | None, end_ms: int | None, max_bars: int
) -> Chart:
    """``spec``'s indicators computed on all of ``candles``, shown over ``start_ms <= ts < end_ms``
    in at most ``max_bars`` candles."""
    series = compute_indicators(spec, candles.ohlcv())
    lo = 0 if start_ms is None else int(np.searchsorted(candles.ts, start_ms))
    hi = len(candles) if end_ms is None else int(np.searchsorted(candles.ts, end_ms))
    window = candles.between(start_ms, end_ms)
    period = merge_period(window.ts, TIMEFRAME_MS[spec.timeframe], max_bars)
    shown = lo + group_ends(period_starts(window.ts, period), hi - lo)  # each drawn candle's last bar
    indicators = {}
    for indicator, params, _ in spec.indicator_calls():
        function = TALIB_FUNCTIONS[indicator.function]
        named = zip(function.outputs, indicator.series, strict=True)
        indicators[indicator.name] = ChartIndicator(
            function=indicator.function,
            params=dict(params),
            pane=function.pane,
            outputs={output: series[name][shown] for output, name in named},
        )
    return Chart(resample(window, period), period, len(window), indicators)
