"""Backtests: a strategy spec run over a candle history, with stats.

``run_backtest`` runs one parameter set; ``run_many`` runs many on the same
candles and computes each distinct indicator call and rule evaluation once for
all of them (a sweep over ``fast``/``slow`` computes each SMA once, not once per
combination). Both go through the same path: indicators, rules, the compiled
position state machine (``strategies.position``), then stats. The semantics are
written down in docs/backtesting.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .candles import Candles
from .domain import Trade, TradeLog
from .indicators import IndicatorCall, keyed_indicators
from .position import make_config, new_state, open_trade, risk_offsets, simulate, trade_log
from .spec import StrategySpec
from .stats import Stats, chart_indices, compute_stats

CHART_POINTS = 1000


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """What one backtest produced: stats, trades and the equity curve (docs/backtesting.md)."""

    params: Mapping[str, float]
    """Every param of the spec, overrides applied."""
    stats: Stats
    trades: TradeLog
    """Closed round trips, in order."""
    open_trades: tuple[Trade, ...]
    """The position still held after the last bar, marked at the last close (at most one)."""
    ts: np.ndarray
    equity: np.ndarray
    """Account value at every close."""
    chart: np.ndarray
    """Indices into ``ts``/``equity`` of at most CHART_POINTS points that draw like the whole curve."""

    @property
    def equity_chart(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, equity) of the chart's points: the curve downsampled, every peak and trough kept."""
        return self.ts[self.chart], self.equity[self.chart]

    def to_dict(self) -> dict:
        """JSON-ready: stats (NaN and infinities as null), trades, and the chart's points."""
        times, equity = self.equity_chart
        return {
            "params": dict(self.params),
            "stats": {key: _json_number(value) for key, value in self.stats.items()},
            "trades": self.trades.to_dicts(),
            "open_trades": [trade.to_dict() for trade in self.open_trades],
            "equity_chart": {"ts": times.tolist(), "equity": equity.tolist()},
        }


def run_backtest(
    spec: StrategySpec, candles: Candles, cash: float = 10_000, params: Mapping[str, float] | None = None
) -> BacktestResult:
    """Backtest ``spec`` (its params overridden by ``params``) on ``candles``, starting with ``cash``."""
    return _run(_with_params(spec, params), candles, cash, SeriesCache(candles))


def run_many(
    spec: StrategySpec, candles: Candles, param_sets: Iterable[Mapping[str, float]], cash: float = 10_000
) -> list[BacktestResult]:
    """``run_backtest`` for each parameter set, sharing indicator and rule results between them.

    Every result keeps its own equity curve, and the shared series stay cached until
    this returns: split very large sweeps on long histories into chunks.
    """
    cache = SeriesCache(candles)
    return [_run(_with_params(spec, params), candles, cash, cache) for params in param_sets]


class SeriesCache:
    """Indicator outputs and rule results on one candle history, keyed by what determines them.

    An indicator call is keyed by its TA-Lib function, its resolved parameter values and the
    keys of the series it reads (so chained indicators share too); a rule by its text, the
    keys of the series it reads and the values of the params it reads. Computation is
    compute_indicators' and CompiledRule.evaluate's: TA-Lib over whole arrays, NaN before
    each series' lookback.
    """

    def __init__(self, candles: Candles) -> None:
        if not len(candles):
            raise ValueError("no candles to backtest on")
        self.ohlcv = candles.ohlcv()
        self._calls: dict[IndicatorCall, list[np.ndarray]] = {}
        self._rules: dict[Hashable, np.ndarray] = {}

    def indicators(self, spec: StrategySpec) -> tuple[dict[str, np.ndarray], dict[str, Hashable]]:
        """Each indicator series of ``spec`` by name, and the cache key of every series by name."""
        return keyed_indicators(spec, self.ohlcv, self._calls)

    def signals(
        self, spec: StrategySpec, series: Mapping[str, np.ndarray], keys: Mapping[str, Hashable]
    ) -> dict[str, np.ndarray]:
        """Each rule of ``spec`` evaluated on ``series`` (price series included) to a bool per bar."""
        values = spec.resolved_params()
        signals = {}
        for name, rule in spec.rules.items():
            key = (
                rule.text,
                tuple((identifier, keys[identifier]) for identifier in sorted(rule.identifiers)),
                tuple((param, values[param]) for param in sorted(rule.params)),
            )
            if key not in self._rules:
                self._rules[key] = rule.evaluate(series, values)
            signals[name] = self._rules[key]
        return signals


def _with_params(spec: StrategySpec, params: Mapping[str, float] | None) -> StrategySpec:
    return spec.with_params(params) if params else spec


def _run(spec: StrategySpec, candles: Candles, cash: float, cache: SeriesCache) -> BacktestResult:
    if not cash > 0:
        raise ValueError(f"cash must be positive, got {cash}")
    n = len(candles)
    params = spec.resolved_params()
    indicators, keys = cache.indicators(spec)
    signals = cache.signals(spec, {**cache.ohlcv, **indicators}, keys)
    never = np.zeros(n, dtype=np.bool_)
    state = new_state(cash)
    rows, equity = simulate(
        state,
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        tuple(signals.get(rule, never) for rule in ("enter_long", "exit_long", "enter_short", "exit_short")),
        risk_offsets(spec, indicators, params),
        make_config(spec, params),
    )
    trades = trade_log(rows, candles.ts)
    still_open = open_trade(state, candles.ts, candles.close)
    open_trades = (still_open,) if still_open is not None else ()
    leading = spec.lookbacks()
    first_trading_bar = min(max((leading[name] for name in indicators), default=0), n - 1)
    stats = compute_stats(candles.ts, candles.close, equity, trades, open_trades, first_trading_bar)
    return BacktestResult(
        params=params,
        stats=stats,
        trades=trades,
        open_trades=open_trades,
        ts=candles.ts,
        equity=equity,
        chart=chart_indices(equity, CHART_POINTS),
    )


def _json_number(value: float | int) -> float | int | None:
    return value if isinstance(value, int) or np.isfinite(value) else None
