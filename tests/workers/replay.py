"""Replaying candles as ticks, the way a lockstep replay feed does.

Each candle becomes four ticks -- open, high, low, close -- at its open time and 15, 30
and 59 seconds' worth of its period later, sent as one batch. The open tick of candle
``i`` closes candle ``i - 1``; the next batch goes out only once that close is fully
handled (``wait_candle_processed``; after the very first batch, once it is applied), so an
order decided at a close fills at the next candle's open, as in a backtest. The order of
high and low inside the candle does not matter to the engine: a batch is checked as one
range, like a backtest bar.
"""

from __future__ import annotations

from collections.abc import Callable

from strategies.candles import TIMEFRAME_MS, Candles
from strategies.domain import Tick
from tickflow.storage.active import OrderUnsettled
from workers.progress import wait_candle_open, wait_candle_processed
from workers.ticks import encode_batch

INGEST = "tasks.live.ingest"


def candle_ticks(symbol: str, timeframe: str, candles: Candles, i: int) -> list[Tick]:
    period = TIMEFRAME_MS[timeframe]
    t = int(candles.ts[i])
    volume = float(candles.volume[i]) / 4
    return [
        Tick(symbol, t + int(period * fraction), float(price), volume)
        for fraction, price in (
            (0, candles.open[i]),
            (0.25, candles.high[i]),
            (0.5, candles.low[i]),
            (59 / 60, candles.close[i]),
        )
    ]


def replay(
    send: Callable[[dict], object],
    redis,
    symbol: str,
    timeframe: str,
    candles: Candles,
    start: int = 0,
    stop: int | None = None,
    timeout_s: float = 30,
) -> None:
    """Send the ticks of ``candles[start:stop]`` through ``send`` (a payload -> message function), in lockstep."""
    for i in range(start, len(candles) if stop is None else stop):
        send(encode_batch(candle_ticks(symbol, timeframe, candles, i)))
        if i == 0:
            if not wait_candle_open(redis, symbol, timeframe, int(candles.ts[0]), timeout_s):
                raise AssertionError(f"first candle not applied in {timeout_s} s")
        elif not wait_candle_processed(redis, symbol, timeframe, int(candles.ts[i - 1]), timeout_s):
            raise AssertionError(f"close of candle {i - 1} ({int(candles.ts[i - 1])}) not processed in {timeout_s} s")


def run_candles(
    engine,
    candles: Candles,
    start: int,
    stop: int,
    symbol: str = "BTCUSDT",
    timeframe: str = "1m",
    on_unsettled: Callable[[OrderUnsettled], object] | None = None,
    retry_with=None,
    held: list | None = None,
) -> None:
    """What the workers do, in process: ingest each candle's batch and run each close's chain.

    With ``on_unsettled``, an ``execute`` that raises ``OrderUnsettled`` is retried, as its task is, after
    ``on_unsettled(error)`` (by ``retry_with``, another engine, if given); with ``held``, its job is put there
    instead, its retry left to the caller; with neither, the error propagates.
    """
    for i in range(start, stop):
        jobs, holders = engine.ingest(encode_batch(candle_ticks(symbol, timeframe, candles, i)))
        for job in jobs:
            engine.evaluate(job, engine.indicators(job))
            executor = engine
            while True:
                try:
                    executor.execute(job)
                    break
                except OrderUnsettled as error:
                    if held is not None:
                        held.append(job)
                        break
                    if on_unsettled is None:
                        raise
                    on_unsettled(error)
                    executor = retry_with or engine
        engine.check_stops(holders)


def backtest_trades(spec, candles: Candles, cash: float = 10_000) -> list[tuple]:
    """The closed trades ``run_backtest`` finds, as (entry, exit, side, size, entry price, exit price, reason)."""
    from strategies.backtest import run_backtest

    result = run_backtest(spec, candles, cash)
    return [
        (t.entry_ts, t.exit_ts, t.side.label, t.size, t.entry_price, t.exit_price, t.exit_reason.value)
        for t in result.trades
    ]


def archived_trades(db, strategy_id: str) -> list[tuple]:
    """The closed trades in ``trade_logs`` in the same shape, in entry order."""
    docs = db.trade_logs.find({"strategy_id": strategy_id, "status": "closed"}).sort("entry_time", 1)
    return [
        (d["entry_time"], d["exit_time"], d["side"], d["size"], d["entry_price"], d["exit_price"], d["exit_reason"])
        for d in docs
    ]
