"""Backtests: a strategy spec run over a candle history, with stats.

``run_backtest`` runs one parameter set; ``run_many`` runs many on the same
candles and computes each distinct indicator call and rule evaluation once for
all of them (a sweep over ``fast``/``slow`` computes each SMA once, not once per
combination). Both go through the same path: indicators, rules, the compiled
position state machine (``strategies.position``), then stats. Both refuse, up
front and in one line, candles no trade can be priced on and cash that isn't a
positive finite amount. The semantics are written down in docs/backtesting.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .candles import Candles
from .domain import LimitBreach, SkippedEntries, Trade, TradeLog, skips_text
from .indicators import IndicatorCall, keyed_indicators
from .position import LIMIT_BAR, limit_breach, make_config, new_state, open_trade, risk_offsets, simulate, trade_log
from .spec import StrategySpec
from .stats import Calendar, Stats, chart_indices, compute_stats

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
    skipped: SkippedEntries
    """Entry signals that placed no order (a size the market does not take), by reason."""
    stopped_by: LimitBreach | None = None
    """The loss limit that stopped the strategy, if one did: no entry was taken after it."""

    @cached_property
    def chart(self) -> np.ndarray:
        """Indices into ``ts``/``equity`` of at most CHART_POINTS points that draw like the whole curve.

        Picked when first asked for: a sweep keeps most of its results for their stats only.
        """
        return chart_indices(self.equity, CHART_POINTS)

    @property
    def equity_chart(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, equity) of the chart's points: the curve downsampled, every peak and trough kept."""
        return self.ts[self.chart], self.equity[self.chart]

    @property
    def no_trades_reason(self) -> str | None:
        """Why no trade closed, in words, for a result without closed trades; None when some did."""
        if len(self.trades):
            return None
        if self.open_trades:
            return "the one position taken is still open at the end"
        return skips_text(self.skipped.to_dict()["by_reason"]) or "no entry signal"

    def to_dict(self) -> dict:
        """JSON-ready: stats (NaN and infinities as null), trades, the chart's points, the skipped entries and
        the loss limit that stopped it (null if none did)."""
        times, equity = self.equity_chart
        return {
            "params": dict(self.params),
            "stats": {key: _json_number(value) for key, value in self.stats.items()},
            "trades": self.trades.to_dicts(),
            "open_trades": [trade.to_dict() for trade in self.open_trades],
            "equity_chart": {"ts": times.tolist(), "equity": equity.tolist()},
            "skipped": self.skipped.to_dict(),
            "stopped_by": self.stopped_by.to_dict() if self.stopped_by is not None else None,
        }


def run_backtest(
    spec: StrategySpec,
    candles: Candles,
    cash: float = 10_000,
    params: Mapping[str, float] | None = None,
    symbol: str | None = None,
) -> BacktestResult:
    """Backtest ``spec`` (its params overridden by ``params``) on ``candles`` of ``symbol``, starting with ``cash``.

    ``symbol`` (default: the spec's first) picks the quantity step and minimums of ``spec.sizing``.
    Raises ValueError, naming the first bad bar, for candles no trade can be priced on
    (``check_candles``), and for cash that isn't a positive finite amount.
    """
    _check_cash(cash)
    return _run(_with_params(spec, params), SeriesCache(candles), cash, symbol)


def run_many(
    spec: StrategySpec,
    candles: Candles,
    param_sets: Iterable[Mapping[str, float]],
    cash: float = 10_000,
    symbol: str | None = None,
) -> list[BacktestResult]:
    """``run_backtest`` for each parameter set, sharing indicator and rule results between them.

    Every result keeps its own equity curve, and the shared series stay cached until
    this returns: split very large sweeps on long histories into chunks.
    """
    _check_cash(cash)
    cache = SeriesCache(candles)
    return [_run(_with_params(spec, params), cache, cash, symbol) for params in param_sets]


class SeriesCache:
    """Indicator outputs and rule results on one candle history, keyed by what determines them.

    An indicator call is keyed by its TA-Lib function, its resolved parameter values and the
    keys of the series it reads (so chained indicators share too); a rule by its text, the
    keys of the series it reads and the values of the params it reads. Computation is
    compute_indicators' and CompiledRule.evaluate's: TA-Lib over whole arrays, NaN before
    each series' lookback. Building one checks the candles (``check_candles``) and works out
    their stats ``Calendar``, once for every backtest run on them.
    """

    def __init__(self, candles: Candles) -> None:
        check_candles(candles)
        self.candles = candles
        self.ohlcv = candles.ohlcv()
        self.calendar = Calendar.of(candles.ts)
        """What the stats read from the bar times alone, the same for every backtest here."""
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


def check_candles(candles: Candles) -> None:
    """Refuse a history no trade can be priced on, with a ValueError naming its first bad bar in one line.

    Times must be strictly increasing, open/high/low/close finite and above zero (an order
    filled at a zero open would divide by zero when sized; a NaN close makes equity NaN),
    volume finite and not negative. Checked once per history, so the backtester and the live
    engine can trust every bar from then on.
    """
    if not len(candles):
        raise ValueError("no candles to backtest on")
    ts, volume = candles.ts, candles.volume
    prices = {name: getattr(candles, name) for name in ("open", "high", "low", "close")}
    # Whole-column reductions first (NaN fails every comparison, and min/max pass it on): on a
    # million bars they take half the time of the masks below, which only look for the culprit.
    if (
        (ts[1:] > ts[:-1]).all()
        and all(values.min() > 0 and values.max() < math.inf for values in prices.values())
        and volume.min() >= 0
        and volume.max() < math.inf
    ):
        return
    bad = {
        "ts": np.r_[False, ts[1:] <= ts[:-1]],
        **{name: ~((values > 0) & (values < math.inf)) for name, values in prices.items()},
        "volume": ~((volume >= 0) & (volume < math.inf)),
    }
    bar, name = min((int(mask.argmax()), name) for name, mask in bad.items() if mask.any())
    where = f"bar {bar} (ts {ts[bar]} = {np.datetime64(int(ts[bar]), 'ms')}Z)"
    if name == "ts":
        raise ValueError(f"{where}: ts is not after the previous bar's ({ts[bar - 1]}); times must increase")
    rule = "must be finite and at least 0" if name == "volume" else "must be finite and above 0"
    raise ValueError(f"{where}: {name} is {getattr(candles, name)[bar]}; {rule}")


def _check_cash(cash: float) -> None:
    if not 0 < cash < math.inf:
        raise ValueError(f"cash must be a positive finite amount, got {cash}")


def _with_params(spec: StrategySpec, params: Mapping[str, float] | None) -> StrategySpec:
    return spec.with_params(params) if params else spec


def _run(spec: StrategySpec, cache: SeriesCache, cash: float, symbol: str | None) -> BacktestResult:
    candles = cache.candles
    n = len(candles)
    params = spec.resolved_params()
    indicators, keys = cache.indicators(spec)
    signals = cache.signals(spec, {**cache.ohlcv, **indicators}, keys)
    never = np.zeros(n, dtype=np.bool_)
    state = new_state(cash)
    config = make_config(spec, params, symbol)
    rows, equity, skipped = simulate(
        state,
        candles.ts,
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        tuple(signals.get(rule, never) for rule in ("enter_long", "exit_long", "enter_short", "exit_short")),
        risk_offsets(spec, indicators, params),
        config,
    )
    trades = trade_log(rows, candles.ts)
    still_open = open_trade(state, candles.ts, candles.close)
    open_trades = (still_open,) if still_open is not None else ()
    leading = spec.lookbacks()
    first_trading_bar = min(max((leading[name] for name in indicators), default=0), n - 1)
    stats = compute_stats(candles.ts, candles.close, equity, trades, open_trades, first_trading_bar, cache.calendar)
    return BacktestResult(
        params=params,
        stats=stats,
        trades=trades,
        open_trades=open_trades,
        ts=candles.ts,
        equity=equity,
        skipped=skipped,
        stopped_by=limit_breach(state, int(candles.ts[int(state[LIMIT_BAR])]), config),
    )


def _json_number(value: float | int) -> float | int | None:
    return value if isinstance(value, int) or np.isfinite(value) else None
