"""Live accounts as operators see them: positions marked at the last tick."""

from __future__ import annotations

from typing import Any

from strategies import position as machine
from tickflow.live.engine import LiveEngine
from tickflow.storage import keys


def accounts(engine: LiveEngine) -> list[dict[str, Any]]:
    """One row per active strategy and symbol: position, unrealised PnL, balance and equity at the last price.

    What ``GET /api/v1/live/positions`` returns and ``tickflow status`` shows; read from Redis only.
    """
    client = engine.redis
    accounts = []
    for sid, entry in engine.active.all().items():
        for symbol in entry.symbols:
            position = engine.book.load(sid, symbol, entry.cash)
            last = client.hget(keys.last_tick(symbol), "p")
            state = position.state
            price = float(last) if last is not None else float(state[machine.ENTRY_PRICE])
            side = position.side
            accounts.append({
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
    return accounts
