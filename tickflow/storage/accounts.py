"""Live accounts as operators see them: positions marked at the last tick, read from Redis only."""

from __future__ import annotations

from typing import Any

import redis

from strategies import position as machine
from tickflow.storage import keys
from tickflow.storage.active import active_entries
from tickflow.storage.positions import load_position


def accounts(client: redis.Redis) -> list[dict[str, Any]]:
    """One row per active strategy and symbol: position, unrealised PnL, balance and equity at the last price.

    What ``GET /api/v1/live/positions`` returns and ``tickflow status`` shows.
    """
    rows = []
    for sid, entry in active_entries(client).items():
        for symbol in entry.symbols:
            state = load_position(client, sid, symbol, entry.cash).state
            last = client.hget(keys.last_tick(symbol), "p")
            side = int(state[machine.SIDE])
            price = float(last) if last is not None else float(state[machine.ENTRY_PRICE])
            rows.append({
                "strategy_id": sid,
                "symbol": symbol,
                "cash": entry.cash,
                "side": {1: "long", -1: "short"}.get(side, "flat"),
                "size": float(state[machine.SIZE]),
                "entry_price": float(state[machine.ENTRY_PRICE]) if side else None,
                "entry_time": int(state[machine.ENTRY_BAR]) if side else None,
                "price": price if last is not None else None,
                "unrealised_pnl": side * float(state[machine.SIZE]) * (price - float(state[machine.ENTRY_PRICE]))
                if side else 0.0,
                "balance": float(state[machine.BALANCE]),
                "equity": float(machine.equity(state, price)),
            })  # fmt: skip
    return rows
