"""The live position record: one strategy's account on one symbol, as stored in Redis.

A ``Position`` is the ``state`` array of ``strategies.position`` plus the cursors that say
how far the live engine has moved it (``workers.positions`` explains each). The engine
moves and commits positions; the API and the CLI only read them, through this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import redis

from strategies import position as machine
from tickflow.storage import keys

ADOPT = -1
"""``bar`` of a position that has never seen a close (new, or rebuilt after Redis was emptied):
the first close or tick it meets sets it."""


@dataclass
class Position:
    strategy_id: str
    symbol: str
    state: np.ndarray
    version: int = 0
    cursor: str = "0-0"
    bar: int = ADOPT
    evaluated: int = -1
    executed: int = -1

    @property
    def side(self) -> int:
        return int(self.state[machine.SIDE])

    @property
    def trade_id(self) -> str:
        """Id of the open trade: strategy, symbol and entry candle."""
        return trade_id(self.strategy_id, self.symbol, int(self.state[machine.ENTRY_BAR]))

    def copy(self) -> Position:
        return replace(self, state=self.state.copy())

    def fields(self) -> dict[str, str]:
        """The hash fields it is stored as (``version`` is set by the committing script)."""
        return {
            "state": json.dumps(self.state.tolist()),
            "cursor": self.cursor,
            "bar": str(self.bar),
            "evaluated": str(self.evaluated),
            "executed": str(self.executed),
        }


def trade_id(strategy_id: str, symbol: str, entry_bar: int) -> str:
    return f"{strategy_id}-{symbol}-{entry_bar}"


def position_from_fields(strategy_id: str, symbol: str, cash: float, raw: dict[str, str]) -> Position:
    """A position from its stored hash fields; a flat new account holding ``cash`` when there are none."""
    if not raw:
        return Position(strategy_id, symbol, machine.new_state(cash))
    stored = json.loads(raw["state"])
    # A state stored before the machine had its later slots takes their new-account values.
    state = np.concatenate([stored, machine.new_state(cash)[len(stored) :]])
    return Position(
        strategy_id,
        symbol,
        state,
        version=int(raw["version"]),
        cursor=raw["cursor"],
        bar=int(raw["bar"]),
        evaluated=int(raw["evaluated"]),
        executed=int(raw["executed"]),
    )


def load_position(client: redis.Redis, strategy_id: str, symbol: str, cash: float) -> Position:
    """The stored position, or a flat new account holding ``cash``."""
    return position_from_fields(strategy_id, symbol, cash, client.hgetall(keys.position(strategy_id, symbol)))
