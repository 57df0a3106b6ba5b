"""Live accounts as operators see them: positions marked at the last tick, read from Redis only."""

from __future__ import annotations

from typing import Any

import redis

from strategies import position as machine
from tickflow.storage import keys
from tickflow.storage.active import active_entries
from tickflow.storage.positions import position_from_fields

# The kernel's own function run as plain Python: one mark needs no machine code, and loading the
# compiled kernels costs a process about a second and a half on its first call (numba imports SciPy).
_equity = machine.equity.py_func


def accounts(client: redis.Redis) -> list[dict[str, Any]]:
    """One row per active strategy and symbol: position, unrealised PnL, balance and equity at the last price.

    What ``GET /api/v1/live/positions`` returns and ``tickflow status`` shows.
    """
    entries = active_entries(client)
    wanted = [(sid, symbol, entry.cash) for sid, entry in entries.items() for symbol in entry.symbols]
    symbols = sorted({symbol for _, symbol, _ in wanted})
    pipe = client.pipeline(transaction=False)  # one round trip for every position and last price
    for sid, symbol, _ in wanted:
        pipe.hgetall(keys.position(sid, symbol))
    for symbol in symbols:
        pipe.hget(keys.last_tick(symbol), "p")
    replies = pipe.execute()
    last = dict(zip(symbols, replies[len(wanted) :]))
    rows = []
    for (sid, symbol, cash), raw in zip(wanted, replies[: len(wanted)]):
        state = position_from_fields(sid, symbol, cash, raw).state
        side = int(state[machine.SIDE])
        price = float(last[symbol]) if last[symbol] is not None else float(state[machine.ENTRY_PRICE])
        rows.append({
            "strategy_id": sid,
            "symbol": symbol,
            "cash": cash,
            "side": {1: "long", -1: "short"}.get(side, "flat"),
            "size": float(state[machine.SIZE]),
            "entry_price": float(state[machine.ENTRY_PRICE]) if side else None,
            "entry_time": int(state[machine.ENTRY_BAR]) if side else None,
            "price": price if last[symbol] is not None else None,
            "unrealised_pnl": side * float(state[machine.SIZE]) * (price - float(state[machine.ENTRY_PRICE]))
            if side else 0.0,
            "balance": float(state[machine.BALANCE]),
            "equity": float(_equity(state, price)),
        })  # fmt: skip
    return rows
