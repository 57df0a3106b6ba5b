"""Live trades from Binance's public WebSocket trade streams (no API key needed).

The feed connects to the combined-stream URL ``{url}/stream?streams=btcusdt@trade/ethusdt@trade``,
whose messages wrap each trade in an envelope::

    {"stream": "btcusdt@trade",
     "data": {"e": "trade", "E": 1700000000123, "s": "BTCUSDT", "t": 12345,
              "p": "37000.10", "q": "0.0012", "T": 1700000000120, "m": true}}

Raw single-stream messages (the ``data`` object alone) are accepted too. A
tick is ``Tick(s, T, float(p), float(q))``: the trade time, not the event time.

The exchange drops connections (every 24 hours at least, and on any network
trouble): the feed reconnects with exponential backoff and jitter,
resubscribing through the URL, and logs what was missed. Trade ids ``t``
are consecutive per symbol, so a jump is a count of lost trades, logged per
symbol; a trade id seen before (or older) is skipped, so no trade is counted
twice. Unparseable messages are skipped and counted in ``stats``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from strategies.domain import Tick
from workers.feeds.backoff import Backoff

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://stream.binance.com:9443"


class BadMessage(ValueError):
    """A message that is not a well-formed trade; the text says why."""


@dataclass
class BinanceStats:
    messages: int = 0
    trades: int = 0
    bad_messages: int = 0
    duplicate_trades: int = 0
    missed_trades: int = 0
    """Trades known lost, from jumps in the trade ids."""
    reconnects: int = 0


def stream_url(base_url: str, symbols: Sequence[str]) -> str:
    """The combined trade stream of ``symbols`` at ``base_url`` (``wss://host:port``)."""
    streams = "/".join(f"{symbol.lower()}@trade" for symbol in symbols)
    return f"{base_url.rstrip('/')}/stream?streams={streams}"


def parse_trade(message: str | bytes) -> tuple[Tick, int] | None:
    """The trade in a message and its trade id; None for other events (such as a subscription reply).

    Raises :class:`BadMessage` for anything malformed.
    """
    try:
        event = json.loads(message)
    except ValueError:
        raise BadMessage("not JSON") from None
    if isinstance(event, dict) and isinstance(event.get("data"), dict) and "stream" in event:
        event = event["data"]
    if not isinstance(event, dict):
        raise BadMessage(f"a message is a JSON object, got {type(event).__name__}")
    if event.get("e") != "trade":
        return None
    try:
        symbol, trade_id, trade_time = event["s"], event["t"], event["T"]
        price, qty = float(event["p"]), float(event["q"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadMessage(f"trade without a valid {error}") from None
    if not (isinstance(symbol, str) and symbol and _is_int(trade_id) and _is_int(trade_time)):
        raise BadMessage("trade symbol, id or time of the wrong type")
    if not (math.isfinite(price) and price > 0 and math.isfinite(qty) and qty >= 0):
        raise BadMessage(f"trade price {event['p']!r} or quantity {event['q']!r} out of range")
    return Tick(symbol.upper(), trade_time, price, qty), trade_id


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class BinanceFeed:
    """Trades of ``symbols`` from the exchange at ``url``, one tick per trade, reconnecting forever."""

    name = "binance"

    def __init__(
        self,
        symbols: Sequence[str],
        url: str = DEFAULT_URL,
        backoff: Backoff | None = None,
        open_timeout_s: float = 10.0,
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        if urlsplit(url).scheme not in ("ws", "wss"):
            raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
        self.symbols = [symbol.upper() for symbol in symbols]
        self.url = stream_url(url, self.symbols)
        self.open_timeout_s = open_timeout_s
        self.stats = BinanceStats()
        self._backoff = backoff or Backoff(initial=0.5, maximum=30.0)
        self._last_trade_id: dict[str, int] = {}
        self._last_message_at: float | None = None  # monotonic; measures the silence across a reconnect

    async def ticks(self) -> AsyncIterator[list[Tick]]:
        while True:
            try:
                async with connect(self.url, open_timeout=self.open_timeout_s) as connection:
                    log.info("connected to %s", self.url)
                    resumed = self.stats.reconnects == 0
                    async for message in connection:
                        if not resumed:
                            self._log_silence()
                            resumed = True
                        self._backoff.reset()
                        tick = self._accept(message)
                        if tick is not None:
                            yield [tick]
                reason = "closed by the server"
            except (OSError, TimeoutError, WebSocketException) as error:
                reason = f"{type(error).__name__}: {error}"
            self.stats.reconnects += 1
            delay = self._backoff.next()
            log.warning("connection to %s lost (%s); reconnecting in %.1f s", self.url, reason, delay)
            await asyncio.sleep(delay)

    def _accept(self, message: str | bytes) -> Tick | None:
        """The message's tick if it is a trade not seen before; counts and logs everything else."""
        self.stats.messages += 1
        self._last_message_at = time.monotonic()
        try:
            trade = parse_trade(message)
        except BadMessage as error:
            self.stats.bad_messages += 1
            log.debug("ignored a bad message (%s): %.200r", error, message)
            return None
        if trade is None:
            return None
        tick, trade_id = trade
        last = self._last_trade_id.get(tick.symbol)
        if last is not None and trade_id <= last:
            self.stats.duplicate_trades += 1
            return None
        if last is not None and trade_id > last + 1:
            missed = trade_id - last - 1
            self.stats.missed_trades += missed
            log.warning(
                "%s: %d trades missed (trade ids %d to %d)",
                tick.symbol,
                missed,
                last + 1,
                trade_id - 1,
                extra={"symbol": tick.symbol},
            )
        self._last_trade_id[tick.symbol] = trade_id
        self.stats.trades += 1
        return tick

    def _log_silence(self) -> None:
        """After a reconnect: how long no message arrived (trades in that time are lost unless ids say otherwise)."""
        if self._last_message_at is not None:
            log.warning(
                "stream resumed after %.1f s without messages (reconnect %d)",
                time.monotonic() - self._last_message_at,
                self.stats.reconnects,
            )
