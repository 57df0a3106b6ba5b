"""Helpers for feed tests: draining a feed, and a local exchange speaking Binance's trade-stream format.

Feeds are asyncio code; tests drive them with ``asyncio.run`` so that each
test owns its event loop and nothing needs an async test plugin.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from contextlib import aclosing

from websockets.asyncio.server import ServerConnection, serve

from strategies.candles import Candles
from strategies.domain import Tick
from workers.feeds.base import Feed

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE = 60_000


def candles(*rows: tuple[float, float, float, float, float], start: int = T0, step: int = MINUTE) -> Candles:
    """Candles from ``(open, high, low, close, volume)`` rows, one ``step`` apart."""
    o, h, l, c, v = zip(*rows)
    return Candles.from_columns(
        {"ts": [start + i * step for i in range(len(rows))], "open": o, "high": h, "low": l, "close": c, "volume": v}
    )


async def take(feed: Feed, count: int, timeout_s: float = 10.0) -> list[Tick]:
    """The first ``count`` ticks of ``feed`` (then the feed is closed)."""
    ticks: list[Tick] = []
    async with asyncio.timeout(timeout_s), aclosing(feed.ticks()) as groups:
        async for group in groups:
            ticks.extend(group)
            if len(ticks) >= count:
                break
    return ticks[:count]


async def drain(feed: Feed, timeout_s: float = 10.0) -> list[Tick]:
    """Every tick of a feed that ends (a replay)."""
    async with asyncio.timeout(timeout_s):
        return [tick async for group in feed.ticks() for tick in group]


def trade(
    symbol: str,
    trade_id: int,
    price: float = 100.0,
    qty: float = 0.5,
    ts: int = 1_700_000_000_000,
    combined: bool = True,
) -> str:
    """A Binance trade message: in the combined-stream envelope, or raw as a single stream sends it."""
    data = {
        "e": "trade",
        "E": ts + 3,
        "s": symbol,
        "t": trade_id,
        "p": f"{price:.2f}",
        "q": f"{qty:.5f}",
        "T": ts,
        "m": trade_id % 2 == 0,
        "M": True,
    }
    return json.dumps({"stream": f"{symbol.lower()}@trade", "data": data} if combined else data)


class FakeExchange:
    """A WebSocket server on 127.0.0.1 playing one script per connection, in order.

    Connection ``k`` receives the messages of ``scripts[k]``; every connection
    but the last is then dropped without a close frame, as a network failure
    would; the last stays open. ``paths`` records what each connection asked
    for (the streams it subscribed to).
    """

    def __init__(self, scripts: Sequence[Sequence[str]]) -> None:
        self.scripts = scripts
        self.paths: list[str] = []
        self.port = 0
        self._server = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeExchange:
        self._server = await serve(self._play, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _play(self, connection: ServerConnection) -> None:
        index = len(self.paths)
        self.paths.append(connection.request.path)
        for message in self.scripts[index] if index < len(self.scripts) else ():
            await connection.send(message)
        if index < len(self.scripts) - 1:
            await connection.drain()
            connection.transport.abort()
        else:
            await connection.wait_closed()
