"""Strategies over the Redis working set: the backtester's indicator and rule code, on the last bars.

``indicator_tails`` runs ``keyed_indicators`` -- TA-Lib over the whole working set, each
distinct indicator call once for every strategy of a close -- and keeps, per strategy,
only the last few values its rules and ATR stops read (``CompiledRule.max_offset`` + 1
bars). ``decide_many`` evaluates the compiled rules on those tails: the last value equals
the last bar of a whole-history evaluation, because a rule looks back at most
``max_offset`` bars. Both run in one ``decide`` task, so tails never leave the process
and a later close can never overwrite the values an earlier close is being decided on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import redis

from strategies.candles import TIMEFRAME_MS, Candles
from strategies.indicators import IndicatorCall, keyed_indicators
from strategies.position import make_config, risk_offsets
from strategies.spec import AtrDistance, RiskLimits, StrategySpec, validate_spec
from tickflow.storage import keys
from tickflow.storage.candle_rows import candles_from_joined
from tickflow.storage.scripts import lua_script
from tickflow.storage.strategies import StrategyRepository
from workers.positions import has_risk_exits

RULES = ("enter_long", "exit_long", "enter_short", "exit_short")
Tails = dict[str, np.ndarray]
"""Series name -> its last values, oldest first."""


@dataclass(frozen=True, eq=False)
class LiveStrategy:
    """A stored strategy compiled once per version for this process."""

    id: str
    version: int
    spec: StrategySpec
    params: Mapping[str, float]
    limits: RiskLimits = field(default_factory=RiskLimits)
    """Its risk limits live: the spec's, tightened by the operator's (``LiveSettings.limits``)."""
    _configs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def period(self) -> int:
        return TIMEFRAME_MS[self.spec.timeframe]

    def config(self, symbol: str) -> np.ndarray:
        """The state machine's settings for trading ``symbol``: the spec's, with that symbol's quantity
        rules and the live risk limits (``make_config``); worked out once per symbol."""
        if symbol not in self._configs:
            self._configs[symbol] = make_config(self.spec, self.params, symbol, self.limits)
        return self._configs[symbol]

    @cached_property
    def has_stops(self) -> bool:
        """Whether a tick can close its positions (a stop, target or trailing stop), whatever the symbol."""
        return has_risk_exits(self.config(self.spec.symbols[0]))

    @cached_property
    def tail_length(self) -> int:
        return 1 + max((rule.max_offset for rule in self.spec.rules.values()), default=0)

    @cached_property
    def tail_series(self) -> frozenset[str]:
        """The series its rules and ATR distances read (worked out once: it is asked at every close)."""
        atr = {
            d.atr
            for d in (self.spec.risk.stop_loss, self.spec.risk.take_profit, self.spec.risk.trailing_stop)
            if isinstance(d, AtrDistance)
        }
        # ``close`` too: a rule of constants still needs one series to know how many bars there are.
        return frozenset({name for rule in self.spec.rules.values() for name in rule.identifiers} | atr | {"close"})


class StrategyCatalog:
    """Compiled strategies by id, revalidated against the cache at most every ``refresh_s``.

    Reads go through StrategyRepository, whose Redis cache refills itself from MongoDB, so
    a flushed Redis needs nothing here. An edit reaches running workers within ``refresh_s``.
    """

    def __init__(
        self, repository: StrategyRepository, refresh_s: float = 1.0, limits: RiskLimits | None = None
    ) -> None:
        self.repository = repository
        self.refresh_s = refresh_s
        self.limits = limits or RiskLimits()
        """The operator's limits, applied on top of every strategy's own."""
        self._compiled: dict[str, tuple[float, LiveStrategy]] = {}

    def get(self, strategy_id: str) -> LiveStrategy:
        now = time.monotonic()
        cached = self._compiled.get(strategy_id)
        if cached and now - cached[0] < self.refresh_s:
            return cached[1]
        stored = self.repository.get(strategy_id)
        if cached and cached[1].version == stored.version:
            live = cached[1]
        else:
            spec = validate_spec(stored.spec)
            limits = spec.risk.limits.stricter(self.limits)
            live = LiveStrategy(stored.id, stored.version, spec, spec.resolved_params(), limits)
        self._compiled[strategy_id] = (now, live)
        return live


def working_set(client: redis.Redis, symbol: str, timeframe: str, through: int) -> Candles:
    """The closed candles of ``symbol``/``timeframe`` kept in Redis, up to the one opened at ``through``."""
    return working_sets_at(client, [symbol], timeframe, through)[0]


JOINED_LISTS = lua_script("workers", "joined_lists")


def working_sets_at(client: redis.Redis, symbols: Sequence[str], timeframe: str, through: int) -> list[Candles]:
    """``working_set`` of each symbol, in one round trip."""
    if not symbols:
        return []
    joined = client.eval(JOINED_LISTS, len(symbols), *(keys.closed_candles(symbol, timeframe) for symbol in symbols))
    return [candles_from_joined(rows).between(None, through + 1) for rows in joined]


def indicator_tails(
    strategies: Sequence[LiveStrategy], candles: Candles
) -> tuple[dict[str, Tails], dict[str, dict[str, float | None]]]:
    """Each strategy's tails on ``candles`` (see the module docstring), and every one of its
    indicator values at the last candle (for the dashboard; None for NaN). Indicator calls are shared.
    """
    ohlcv = candles.ohlcv()
    memo: dict[IndicatorCall, list[np.ndarray]] = {}
    tails, latest = {}, {}
    for strategy in strategies:
        series, _ = keyed_indicators(strategy.spec, ohlcv, memo)
        n = strategy.tail_length
        last = {name: (series[name] if name in series else ohlcv[name])[-n:] for name in strategy.tail_series}
        tails[strategy.id] = last
        latest[strategy.id] = {name: _json_float(values[-1]) for name, values in series.items()}
    return tails, latest


@dataclass(frozen=True)
class Decision:
    """The rules at one close, and the ATR parts of the risk distances for an entry there."""

    enter_long: bool
    exit_long: bool
    enter_short: bool
    exit_short: bool
    offsets: tuple[float, float, float]
    close: float
    """The candle's close, which the account is marked at for the loss limits (``on_close``)."""

    def to_dict(self) -> dict:
        return {**{rule: getattr(self, rule) for rule in RULES}, "offsets": _json_floats(self.offsets)}


def decide_many(strategy: LiveStrategy, tails: Mapping[str, Tails]) -> dict[str, Decision]:
    """``strategy``'s rules on each symbol's tails (symbol -> tails); the last bar's values decide.

    Tails of equal length are stacked, one row per symbol, so each rule is evaluated once for
    all of them: a rule costs about the same on one row as on a hundred.
    """
    by_length: dict[int, list[str]] = {}
    for symbol, series in tails.items():
        by_length.setdefault(len(series["close"]), []).append(symbol)
    decisions = {}
    for symbols in by_length.values():
        stacked = {name: np.array([tails[symbol][name] for symbol in symbols]) for name in tails[symbols[0]]}
        fired = {name: rule.evaluate(stacked, strategy.params)[:, -1] for name, rule in strategy.spec.rules.items()}
        offsets = risk_offsets(strategy.spec, {name: rows[:, -1] for name, rows in stacked.items()}, strategy.params)
        for row, symbol in enumerate(symbols):
            decisions[symbol] = Decision(
                *(bool(fired[rule][row]) if rule in fired else False for rule in RULES),
                offsets=tuple(float(x) for x in offsets[row if len(offsets) > 1 else 0]),
                close=float(stacked["close"][row, -1]),
            )
    return decisions


def _json_floats(values) -> list[float | None]:
    return [_json_float(v) for v in values]


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
