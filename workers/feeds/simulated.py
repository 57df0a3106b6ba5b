"""A simulated market: seeded random-walk trades for any symbols, at a chosen rate, for demos, tests and benches.

Each symbol's price is a geometric random walk (60% annual volatility, as
crypto) starting from a plausible level (about 60,000 for BTCUSDT, 3,000 for
ETHUSDT; other symbols get a level between 0.1 and 1,000 derived from their
name) or from the level given in ``start_prices`` (``tickflow feed`` passes each
symbol's last stored close, so live candles continue the history live strategies
warm up on), printed to six significant digits. Trade sizes are log-normal around
1,000 quote units of notional, at the exchange-like precision of the price
level. The symbol of each trade is drawn at random, so each symbol trades at
``rate / len(symbols)`` on average.

Tick ``i`` is stamped ``start_ms + i * 1000 / rate`` and released when that
time comes, so the same seed, symbols, rate and ``start_ms`` give the same
ticks bit for bit however the process is scheduled: symbols, shocks and sizes
come from three independent random streams, none of which depends on how many
ticks were due at each step. With ``rate=None`` (as fast as possible) the
prices and sizes are still those of the seed, but ticks are stamped with the
wall clock.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence

import numpy as np

from strategies.domain import Tick
from workers.feeds.base import MAX_GROUP
from workers.feeds.pacing import Pacer

KNOWN_PRICES = {
    "BTCUSDT": 60_000.0,
    "ETHUSDT": 3_000.0,
    "BNBUSDT": 600.0,
    "SOLUSDT": 150.0,
    "XRPUSDT": 0.6,
    "ADAUSDT": 0.45,
    "DOGEUSDT": 0.15,
}
_ANNUAL_VOLATILITY = 0.6
_SECONDS_PER_YEAR = 365 * 86_400
_NOMINAL_RATE_PER_SYMBOL = 1.0  # sets the per-tick volatility when the rate is unlimited
_SIGNIFICANT_DIGITS = 6
_NOTIONAL_MEDIAN = 1_000.0


def start_price(symbol: str) -> float:
    """Where ``symbol``'s walk starts: a known level, or one between 0.1 and 1,000 fixed by the name."""
    if symbol in KNOWN_PRICES:
        return KNOWN_PRICES[symbol]
    fraction = zlib.crc32(symbol.encode()) / 2**32  # not hash(): that changes from process to process
    return float(f"{10 ** (4 * fraction - 1):.3g}")


class SimulatedFeed:
    """Random-walk ticks for ``symbols`` at ``rate`` ticks/s in total (``None``: as fast as possible).

    ``start_prices`` overrides ``start_price`` for the symbols it names.
    """

    name = "simulated"

    def __init__(
        self,
        symbols: Sequence[str],
        rate: float | None = 10.0,
        seed: int = 0,
        start_ms: int | None = None,
        start_prices: Mapping[str, float] | None = None,
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        if rate is not None and not rate > 0:
            raise ValueError("rate must be > 0 ticks/s (None: as fast as possible)")
        self.symbols = list(symbols)
        self.rate = rate
        self.start_ms = start_ms
        symbol_stream, shock_stream, size_stream = np.random.SeedSequence(seed).spawn(3)
        self._symbol_rng = np.random.default_rng(symbol_stream)
        self._shock_rng = np.random.default_rng(shock_stream)
        self._size_rng = np.random.default_rng(size_stream)

        given = start_prices or {}
        levels = np.array([given.get(symbol) or start_price(symbol) for symbol in self.symbols])
        magnitude = np.floor(np.log10(levels))
        self._log_price = np.log(levels).tolist()
        per_symbol_rate = rate / len(self.symbols) if rate else _NOMINAL_RATE_PER_SYMBOL
        self._sigma = _ANNUAL_VOLATILITY * math.sqrt(1 / per_symbol_rate / _SECONDS_PER_YEAR)
        self._price_scale = 10.0 ** np.maximum(0, _SIGNIFICANT_DIGITS - 1 - magnitude)
        self._qty_scale = 10.0 ** np.clip(magnitude + 1, 0, 8)

    async def ticks(self) -> AsyncIterator[list[Tick]]:
        start_ms = int(time.time() * 1000) if self.start_ms is None else self.start_ms
        pacer = Pacer(1.0 if self.rate else 0.0)
        pacer.anchor(start_ms)
        sent = 0
        while True:
            if self.rate is None:
                yield self._next(MAX_GROUP, np.full(MAX_GROUP, int(time.time() * 1000), np.int64))
                await asyncio.sleep(0)  # else a consumer that never waits would starve the event loop
                continue
            due = math.floor((pacer.due_ms() - start_ms) * self.rate / 1000) + 1 - sent
            if due <= 0:
                await pacer.wait_until(start_ms + sent * 1000 / self.rate)
                continue
            count = min(due, MAX_GROUP)
            index = np.arange(sent, sent + count, dtype=np.float64)
            yield self._next(count, start_ms + np.floor(index * 1000 / self.rate).astype(np.int64))
            sent += count

    def _next(self, count: int, ts: np.ndarray) -> list[Tick]:
        """The next ``count`` ticks of the walk, stamped ``ts``."""
        which = self._symbol_rng.integers(0, len(self.symbols), count)
        steps = self._sigma * self._shock_rng.standard_normal(count)
        notional = _NOTIONAL_MEDIAN * self._size_rng.lognormal(0.0, 1.0, count)

        # A plain loop: summing step by step keeps the walk bit for bit the same however ticks are grouped.
        walk = self._log_price
        log_price = np.empty(count)
        for index, (symbol, step) in enumerate(zip(which.tolist(), steps.tolist())):
            walk[symbol] += step
            log_price[index] = walk[symbol]

        # rint(x * 10^d) / 10^d is the double nearest the d-decimal number, as if parsed from text.
        price_scale, qty_scale = self._price_scale[which], self._qty_scale[which]
        price = np.rint(np.exp(log_price) * price_scale) / price_scale
        qty = np.maximum(np.rint(notional / price * qty_scale), 1.0) / qty_scale
        symbols = self.symbols
        return [
            Tick(symbols[s], t, p, q) for s, t, p, q in zip(which.tolist(), ts.tolist(), price.tolist(), qty.tolist())
        ]
