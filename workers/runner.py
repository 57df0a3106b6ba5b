"""Strategies over the Redis working set: the backtester's indicator and rule code, on the last bars.

``indicator_tails`` runs ``keyed_indicators`` -- TA-Lib over the whole working set, each
distinct indicator call once for every strategy of a close -- and keeps, per strategy,
only the last few values its rules and ATR stops read (``CompiledRule.max_offset`` + 1
bars). ``decide`` evaluates the compiled rules on those tails: the last value equals the
last bar of a whole-history evaluation, because a rule looks back at most ``max_offset``
bars. Tails are small enough to travel along the task chain, so a later close can never
overwrite the values an earlier close is being decided on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import redis

from strategies.candles import TIMEFRAME_MS, Candles
from strategies.indicators import IndicatorCall, keyed_indicators
from strategies.position import make_config, risk_offsets
from strategies.spec import AtrDistance, StrategySpec, validate_spec
from workers.positions import has_risk_exits
from tickflow.storage import keys
from tickflow.storage.strategies import StrategyRepository

RULES = ("enter_long", "exit_long", "enter_short", "exit_short")
Tails = dict[str, list[float | None]]
"""Series name -> its last values, oldest first (None for NaN: JSON has no NaN); numpy arrays
when they never leave the process (``indicator_tails(..., as_json=False)``)."""


@dataclass(frozen=True, eq=False)
class LiveStrategy:
    """A stored strategy compiled once per version for this process."""

    id: str
    version: int
    spec: StrategySpec
    params: Mapping[str, float]
    config: np.ndarray
    has_stops: bool

    @property
    def period(self) -> int:
        return TIMEFRAME_MS[self.spec.timeframe]

    @cached_property
    def tail_length(self) -> int:
        return 1 + max((rule.max_offset for rule in self.spec.rules.values()), default=0)

    @cached_property
    def tail_series(self) -> frozenset[str]:
        """The series its rules and ATR distances read (worked out once: it is asked at every close)."""
        atr = {d.atr for d in (self.spec.risk.stop_loss, self.spec.risk.take_profit, self.spec.risk.trailing_stop)
               if isinstance(d, AtrDistance)}
        # ``close`` too: a rule of constants still needs one series to know how many bars there are.
        return frozenset({name for rule in self.spec.rules.values() for name in rule.identifiers} | atr | {"close"})

    def bars_needed(self, min_bars: int, warmup_multiple: int) -> int:
        """Working-set length this strategy wants: ``warmup_multiple`` x its warm-up, at least ``min_bars``."""
        return max(min_bars, warmup_multiple * (self.spec.warmup_bars + 1))


class StrategyCatalog:
    """Compiled strategies by id, revalidated against the cache at most every ``refresh_s``.

    Reads go through StrategyRepository, whose Redis cache refills itself from MongoDB, so
    a flushed Redis needs nothing here. An edit reaches running workers within ``refresh_s``.
    """

    def __init__(self, repository: StrategyRepository, refresh_s: float = 1.0) -> None:
        self.repository = repository
        self.refresh_s = refresh_s
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
            params = spec.resolved_params()
            config = make_config(spec, params)
            live = LiveStrategy(stored.id, stored.version, spec, params, config, has_risk_exits(config))
        self._compiled[strategy_id] = (now, live)
        return live


def working_set(client: redis.Redis, symbol: str, timeframe: str, through: int) -> Candles:
    """The closed candles of ``symbol``/``timeframe`` kept in Redis, up to the one opened at ``through``."""
    return working_sets_at(client, [symbol], timeframe, through)[0]


# KEYS: closed-candle lists. Returns per list its rows joined by ",": one string per symbol parses
# far faster in the client than hundreds of short ones.
JOINED_LISTS = """
local joined = {}
for i, key in ipairs(KEYS) do joined[i] = table.concat(redis.call('LRANGE', key, 0, -1), ',') end
return joined
"""


def working_sets_at(client: redis.Redis, symbols: Sequence[str], timeframe: str, through: int) -> list[Candles]:
    """``working_set`` of each symbol, in one round trip."""
    if not symbols:
        return []
    joined = client.eval(JOINED_LISTS, len(symbols), *(keys.closed_candles(symbol, timeframe) for symbol in symbols))
    return [_parse_rows(rows).between(None, through + 1) for rows in joined]


def _parse_rows(joined: str) -> Candles:
    """Rows ``ts,open,high,low,close,volume`` joined by commas, as candles; one C-level parse."""
    flat = np.array(joined.split(","), dtype=np.float64) if joined else np.empty(0)
    columns = flat.reshape(-1, 6)
    return Candles.from_columns({name: columns[:, i] for i, name in enumerate(("ts", "open", "high", "low",
                                                                              "close", "volume"))})


def indicator_tails(
    strategies: Sequence[LiveStrategy], candles: Candles, as_json: bool = True
) -> tuple[dict[str, Tails], dict[str, dict[str, float | None]]]:
    """Each strategy's tails on ``candles`` (see the module docstring), and every one of its
    indicator values at the last candle (for the dashboard). Indicator calls are shared.

    ``as_json=False`` keeps the tails as numpy arrays, for a caller that decides in the same
    process (the fused ``decide`` task): no round trip through lists.
    """
    ohlcv = candles.ohlcv()
    memo: dict[IndicatorCall, list[np.ndarray]] = {}
    tails, latest = {}, {}
    for strategy in strategies:
        series, _ = keyed_indicators(strategy.spec, ohlcv, memo)
        n = strategy.tail_length
        last = {name: (series[name] if name in series else ohlcv[name])[-n:] for name in strategy.tail_series}
        tails[strategy.id] = {name: _json_floats(values) for name, values in last.items()} if as_json else last
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
        stacked = {name: np.array([_as_array(tails[symbol][name]) for symbol in symbols])
                   for name in tails[symbols[0]]}
        fired = {name: rule.evaluate(stacked, strategy.params)[:, -1] for name, rule in strategy.spec.rules.items()}
        offsets = risk_offsets(strategy.spec, {name: rows[:, -1] for name, rows in stacked.items()}, strategy.params)
        for row, symbol in enumerate(symbols):
            decisions[symbol] = Decision(*(bool(fired[rule][row]) if rule in fired else False for rule in RULES),
                                         offsets=tuple(float(x) for x in offsets[row if len(offsets) > 1 else 0]))
    return decisions


def _as_array(values: np.ndarray | list[float | None]) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _json_floats(values) -> list[float | None]:
    return [_json_float(v) for v in values]


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
