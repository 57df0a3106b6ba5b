"""Chart answers: a backtest's or a strategy's candles, indicators and trades as one compact JSON body.

The numbers come from :func:`strategies.chart.strategy_chart` (the engine's own
indicator code on the same spec); this module gathers what it needs from
MongoDB and Redis and writes the body. Columns, not rows: ``candles`` is
``{"t": [...], "o": [...], ...}``, so a 2,000-candle answer with a few
indicators is a couple of hundred KB, written straight from the numpy columns by orjson
(:mod:`app.jsonbody`). NaN (warm-up) is written as ``null``.

A done backtest never changes, so its chart bodies are kept in a small
per-process LRU cache (keyed by run, attempt and query): a page that
redraws the same chart reads the run's document and nothing else.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import redis
from pymongo.database import Database

from app.jsonbody import dumps_bytes
from backtests.runs import target_spec
from strategies import client_ids
from strategies.candles import TIMEFRAME_MS, Candles
from strategies.chart import Chart, strategy_chart
from strategies.domain import EXIT_REASON_CODES, OrderSide, Side
from strategies.spec import validate_spec
from tickflow.settings import live_settings
from tickflow.storage import keys
from tickflow.storage.backtest_results import BacktestRepository
from tickflow.storage.candle_rows import candles_from_joined
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import Strategy
from tickflow.storage.trade_logs import TradeLogRepository

_EXIT_REASONS = {code: reason.value for reason, code in EXIT_REASON_CODES.items()}
_ENTRY_REASONS = {Side.LONG: "enter_long", Side.SHORT: "enter_short"}


class BodyCache:
    """The last ``size`` bodies by key, safe across a process's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)


BACKTEST_CHARTS = BodyCache(64)


def chart_json(chart: Chart, markers: Mapping[str, list], **about: Any) -> bytes:
    """The body of a chart answer: ``about`` (ids, symbol, range...), then candles, indicators and markers."""
    candles = chart.candles
    body = {
        **about,
        "period_ms": chart.period_ms,
        "bars": chart.bars,
        "candles": {
            "t": np.ascontiguousarray(candles.ts),
            **{name[0]: np.ascontiguousarray(values) for name, values in candles.ohlcv().items()},
        },
        "indicators": {
            name: {
                "function": indicator.function,
                "params": dict(indicator.params),
                "pane": indicator.pane,
                "outputs": {output: np.ascontiguousarray(values) for output, values in indicator.outputs.items()},
            }
            for name, indicator in chart.indicators.items()
        },
        "markers": markers,
    }
    return dumps_bytes(body)


def trade_markers(
    side: np.ndarray,
    entry: tuple[np.ndarray, np.ndarray],
    exit_: tuple[np.ndarray, np.ndarray, np.ndarray],
    start_ms: int | None,
    end_ms: int | None,
) -> dict[str, list]:
    """Markers of trades in ``[start_ms, end_ms)``: one per entry and one per exit, in time order.

    ``side`` is each trade's (1 long, -1 short); ``entry`` its (times, prices); ``exit_`` its (times, prices,
    ``EXIT_REASON_CODES``) for the trades that closed, which come first. ``side`` names the order
    (``buy``/``sell``), ``reason`` why it was sent: ``enter_long``/``enter_short``, or the exit reason.
    """
    side = np.asarray(side, dtype=np.int64)
    closed = len(exit_[0])
    opening = np.where(side > 0, OrderSide.BUY.value, OrderSide.SELL.value)
    closing = np.where(side[:closed] > 0, OrderSide.SELL.value, OrderSide.BUY.value)
    time = np.concatenate((exit_[0], entry[0])).astype(np.int64)
    price = np.concatenate((exit_[1], entry[1])).astype(np.float64)
    sides = np.concatenate((closing, opening))
    reasons = [_EXIT_REASONS[int(code)] for code in exit_[2]] + [_ENTRY_REASONS[Side(int(s))] for s in side]
    inside = np.ones(len(time), dtype=bool)
    if start_ms is not None:
        inside &= time >= start_ms
    if end_ms is not None:
        inside &= time < end_ms
    order = np.flatnonzero(inside)[np.argsort(time[inside], kind="stable")]
    return {
        "time": time[order].tolist(),
        "price": price[order].tolist(),
        "side": sides[order].tolist(),
        "reason": [reasons[index] for index in order.tolist()],
    }


def live_trade_markers(records: Iterable[Mapping[str, Any]], start_ms: int | None, end_ms: int | None) -> dict:
    """``trade_markers`` of live trade records (``trade_logs``), the closed ones' exits included."""
    records = sorted(records, key=lambda record: record["status"] != "closed")  # closed first, as trade_markers wants
    closed = [record for record in records if record["status"] == "closed"]
    return trade_markers(
        np.array([Side[record["side"].upper()] for record in records], dtype=np.int64),
        (_column(records, "entry_time"), _column(records, "entry_price")),
        (
            _column(closed, "exit_time"),
            _column(closed, "exit_price"),
            np.array([EXIT_REASON_CODES[record["exit_reason"]] for record in closed], dtype=np.int64),
        ),
        start_ms,
        end_ms,
    )


def _column(records: list[Mapping[str, Any]], name: str) -> np.ndarray:
    return np.array([record[name] for record in records], dtype=np.float64)


def live_tail(client: redis.Redis, symbol: str, timeframe: str) -> tuple[Candles, dict | None]:
    """The live working set's closed candles, and the forming one (``None`` when there is none)."""
    pipe = client.pipeline()  # MULTI: the list and the forming candle as of one moment
    pipe.lrange(keys.closed_candles(symbol, timeframe), 0, -1)
    pipe.hgetall(keys.current_candle(symbol, timeframe))
    rows, forming = pipe.execute()
    tail = candles_from_joined(",".join(rows))
    if not forming:
        return tail, None
    return tail, {"t": int(forming["t"]), **{name: float(forming[name]) for name in ("o", "h", "l", "c", "v")}}


def strategy_chart_body(
    db: Database,
    client: redis.Redis,
    strategy: Strategy,
    symbol: str,
    start_ms: int | None,
    end_ms: int | None,
    max_bars: int,
) -> bytes | None:
    """The chart body of a strategy's current spec on ``symbol``: stored history, then the live working set after
    it; its live trades as markers and its paper fills. ``None`` when no candle of ``symbol`` exists at all.

    Stored history is read from far enough before ``start_ms`` to warm indicators up as the live engine does.
    """
    spec = validate_spec(strategy.spec)
    timeframe = spec.timeframe
    stored = CandleStore(db).load(symbol, timeframe, warmup_start(start_ms, spec.warmup_bars, timeframe), end_ms)
    tail, forming = live_tail(client, symbol, timeframe)
    candles = joined(stored, tail).between(None, end_ms)
    if not len(candles) and forming is None:
        return None
    live = candles.ts[len(stored) :]
    chart = strategy_chart(spec, candles, start_ms, end_ms, max_bars)
    markers = live_trade_markers(
        TradeLogRepository(db).overlapping(strategy.id, symbol, start_ms, end_ms), start_ms, end_ms
    )
    about = {
        "strategy_id": strategy.id,
        "version": strategy.version,
        "symbol": symbol,
        "timeframe": timeframe,
        "start": start_ms,
        "end": end_ms,
        "live_from": int(live[0]) if len(live) else None,
        "forming": forming,
        "fills": paper_fills(client, strategy.id, symbol, start_ms, end_ms),
    }
    return chart_json(chart, markers, **about)


def joined(stored: Candles, tail: Candles) -> Candles:
    """Stored history followed by the live candles opened after it: each time once, in order."""
    if not len(stored):
        return tail
    after = tail.between(int(stored.ts[-1]) + 1, None)
    return Candles.from_columns(
        {name: np.concatenate((getattr(stored, name), getattr(after, name))) for name in ("ts", *stored.ohlcv())}
    )


def paper_fills(client: redis.Redis, strategy_id: str, symbol: str, start_ms: int | None, end_ms: int | None) -> dict:
    """The paper broker's fills of ``strategy_id`` on ``symbol`` in ``[start_ms, end_ms)``, as columns in time
    order; ``reason`` is the order's action (``open``, ``close`` or an exit reason) from its client order id."""
    try:
        prefix = client_ids.order_prefix(strategy_id, symbol)
    except client_ids.ClientIdError:  # not an id the engine trades under: it has no fills
        prefix = None
    found = []
    for order_id, raw in client.hscan_iter(keys.paper_fills(), match=f"{prefix}*", count=1000) if prefix else ():
        fill = json.loads(raw)
        if (start_ms is None or fill["ts"] >= start_ms) and (end_ms is None or fill["ts"] < end_ms):
            found.append({**fill, "reason": client_ids.decode(order_id, [symbol]).action})
    found.sort(key=lambda fill: fill["ts"])
    return {
        "time": [fill["ts"] for fill in found],
        **{name: [fill[name] for fill in found] for name in ("price", "side", "size", "commission", "reason")},
    }


def warmup_start(start_ms: int | None, warmup_bars: int, timeframe: str) -> int | None:
    """Where to start reading stored history for a chart from ``start_ms``: early enough to warm indicators up."""
    if start_ms is None:
        return None
    bars = live_settings().working_set_bars(warmup_bars)  # as many as the engine's working set holds
    return start_ms - bars * TIMEFRAME_MS[timeframe]


def backtest_chart(
    db: Database, run: Mapping[str, Any], start_ms: int | None, end_ms: int | None, max_bars: int
) -> bytes:
    """The chart body of a done run: its bars (the ones it ran on, ``stats.start`` to ``stats.end``), its
    snapshot's indicators on them, and its trades, closed and still open, as markers."""
    stats = run["stats"]
    candles = CandleStore(db).load(run["symbol"], run["timeframe"], stats["start"], stats["end"] + 1)
    chart = strategy_chart(target_spec(run), candles, start_ms, end_ms, max_bars)
    trades = BacktestRepository(db).trades(run, 0, run["n_trades"])
    held = run["open_trades"]
    markers = trade_markers(
        np.r_[trades.side, [Side[trade["side"].upper()] for trade in held]],
        (
            np.r_[trades.entry_ts, [trade["entry_time"] for trade in held]],
            np.r_[trades.entry_price, [trade["entry_price"] for trade in held]],
        ),
        (trades.exit_ts, trades.exit_price, trades.exit_reason),
        start_ms,
        end_ms,
    )
    about = {"run_id": str(run["_id"]), "symbol": run["symbol"], "timeframe": run["timeframe"]}
    return chart_json(chart, markers, **about, start=start_ms, end=end_ms)
