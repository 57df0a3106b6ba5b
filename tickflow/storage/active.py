"""The live active set as stored in Redis: which strategies trade, and how, read without loading them.

``keys.live_active()`` maps each active strategy's id to a ``LiveEntry``. The live engine
writes it (``workers.active``); the API and the CLI read it through this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import redis

from tickflow.storage import keys


class PositionsOpen(Exception):
    """A start with other cash while positions from the strategy's run are still open."""

    def __init__(self, strategy_id: str, symbols: Sequence[str], cash: float) -> None:
        self.symbols = list(symbols)
        self.cash = cash
        super().__init__(
            f"strategy {strategy_id} holds open positions ({', '.join(symbols)}) from a run with cash {cash:g}: "
            f"start it with that cash to resume them, or stop it with close_positions first"
        )


MODES = ("paper", "live")
"""How a strategy trades: ``paper``, with the paper broker; ``live``, on the venue of ``TICKFLOW_EXCHANGE``."""
SETTLE_RETRY_S = 1.0
"""How soon to look again at a venue order whose fate the venue has not told yet."""


class OrderUnsettled(Exception):
    """An order's fate is not known yet (or it was held back before sending): retry the move after ``retry_after_s``."""

    def __init__(self, client_order_id: str, reason: str, retry_after_s: float = SETTLE_RETRY_S) -> None:
        self.client_order_id = client_order_id
        self.reason = reason
        self.retry_after_s = max(retry_after_s, 0.0)
        super().__init__(f"order {client_order_id}: {reason}" if client_order_id else reason)


class LiveStartRefused(Exception):
    """A start in ``live`` mode the venue could not carry (a symbol it does not trade, shorts on spot, too little
    free balance) or that cannot reach the venue, or a start in another mode than the positions it holds were
    taken in; the message says which."""


class PositionsHeld(Exception):
    """A stop without ``close_positions`` of a strategy holding positions, which would then go unmanaged."""

    def __init__(self, strategy_id: str, symbols: Sequence[str]) -> None:
        self.symbols = list(symbols)
        super().__init__(
            f"strategy {strategy_id} holds open positions ({', '.join(symbols)}): stop it with close_positions "
            f"to close them, or halt trading to block new entries while their stops keep working"
        )


@dataclass(frozen=True)
class LiveEntry:
    """What the engine needs to know about an active strategy without loading it."""

    mode: str
    cash: float
    symbols: list[str]
    timeframe: str
    bars: int
    """Working-set length it wants (``LiveSettings.working_set_bars``)."""
    since: int = 0
    """When its run started, in epoch ms: its accounts started then with ``cash`` (0 for an entry stored before
    runs were recorded). Trade records carry it as ``run``."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> LiveEntry:
        return cls(**json.loads(raw))


def active_entry(client: redis.Redis, strategy_id: str) -> LiveEntry | None:
    raw = client.hget(keys.live_active(), strategy_id)
    return None if raw is None else LiveEntry.from_json(raw)


def active_entries(client: redis.Redis, strategy_ids: Iterable[str] | None = None) -> dict[str, LiveEntry]:
    """Entries of the given strategies that are active, or of every active strategy (``None``)."""
    if strategy_ids is None:
        return {sid: LiveEntry.from_json(raw) for sid, raw in client.hgetall(keys.live_active()).items()}
    ids = list(strategy_ids)
    raw = client.hmget(keys.live_active(), ids) if ids else []
    return {sid: LiveEntry.from_json(value) for sid, value in zip(ids, raw) if value is not None}


def entry_pauses(client: redis.Redis) -> dict[str, dict]:
    """Strategy id -> why its entries are paused (``keys.entry_pauses()``): ``since`` (epoch ms), ``code``,
    ``reason`` and ``rejections``, each until it starts again."""
    return {sid: json.loads(raw) for sid, raw in client.hgetall(keys.entry_pauses()).items()}


def limit_stops(client: redis.Redis) -> list[dict]:
    """The strategies a loss limit stopped (``keys.limit_stops()``), each until it starts again: its id, the
    limit, the close that tripped it (``time``, ``bar``), ``equity``, ``reference``, ``loss``, ``threshold``
    and ``stopped_at`` (epoch ms). What ``GET /api/v1/live/limit-stops`` and ``tickflow status`` show."""
    stops = [{"strategy_id": sid, **json.loads(raw)} for sid, raw in client.hgetall(keys.limit_stops()).items()]
    return sorted(stops, key=lambda stop: stop["stopped_at"])
