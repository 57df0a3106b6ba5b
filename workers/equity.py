"""Live equity history: at every close, each strategy of the close gets a point with its summed accounts.

A point is a strategy's equity (balance plus unrealised PnL, marked at each symbol's last
tick), balance and number of positions held, summed over its symbols: what
``/live/equity`` shows at that moment. ``execute`` records the points of its close after
marking it processed, so the close's own latency does not pay for them. They go to a Redis
outbox first and then to MongoDB (``tickflow.storage.equity_history``), like trade
records: with MongoDB away they wait, and beat's drain moves them later. One point per
strategy and close time, however often it is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis

from strategies import position as machine
from tickflow.storage import keys
from tickflow.storage.active import active_entries
from tickflow.storage.equity_history import EquityHistoryRepository, point_field
from workers.archive import Outbox
from workers.positions import PositionBook


class EquityRecorder:
    def __init__(self, client: redis.Redis, book: PositionBook, history: EquityHistoryRepository) -> None:
        self.redis = client
        self.book = book
        self.outbox = Outbox(client, keys.equity_outbox(), history.add, "equity_history")

    def record(self, strategy_ids: Sequence[str], timeframe: str, close: int) -> None:
        """A point at ``close`` for each of these strategies still trading on ``timeframe``; then copied to MongoDB."""
        entries = {sid: e for sid, e in active_entries(self.redis, sorted(set(strategy_ids))).items()
                   if e.timeframe == timeframe}  # fmt: skip
        if not entries:
            return
        wanted = [(sid, symbol, entry.cash) for sid, entry in entries.items() for symbol in entry.symbols]
        symbols = sorted({symbol for _, symbol, _ in wanted})
        pipe = self.redis.pipeline(transaction=False)
        for symbol in symbols:
            pipe.hget(keys.last_tick(symbol), "p")
        last = dict(zip(symbols, pipe.execute()))
        points: dict[str, dict] = {}
        for position in self.book.load_many(wanted):
            state = position.state
            price = last[position.symbol]
            mark = float(price) if price is not None else float(state[machine.ENTRY_PRICE])
            point = points.setdefault(
                position.strategy_id,
                {"strategy_id": position.strategy_id, "t": close, "equity": 0.0, "balance": 0.0, "positions": 0},
            )
            point["equity"] += float(machine.equity(state, mark))
            point["balance"] += float(state[machine.BALANCE])
            point["positions"] += position.side != 0
        fields = {point_field(point): json.dumps(point) for point in points.values()}
        self.outbox.put(fields)
        self.outbox.flush(list(fields))
