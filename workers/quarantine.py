"""Screening ticks before they reach Redis: a tick that cannot be right is quarantined, never applied.

Two rules, both cheap enough for every tick of every batch (numpy, before the ingest script):

* **Future**: a tick stamped more than ``max_tick_skew_s`` ahead of this host's clock. Applied,
  it would close the forming candle and leave every real tick after it counted late, blinding
  the symbol's strategies until real time caught up with it.
* **Price band**: a price more than ``price_band`` (a fraction) away from the symbol's last
  applied price, for a tick at most ``price_band_window_s`` from that price's time (either way:
  a replay of older data is not judged against today's price). A real move that large
  keeps the symbol's ticks quarantined for one window at most: once the last applied price is
  older than that, the next tick sets the new level.

Quarantined ticks are counted per symbol (``keys.quarantined_ticks()``), reported as one
``quarantine`` event per symbol and rule per batch, and logged; they never touch a candle, the
last price or the price path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from workers.ticks import TickBatch

FUTURE = "future"
PRICE_BAND = "price_band"


@dataclass(frozen=True)
class Quarantined:
    """The ticks of one symbol one rule kept out of a batch: how many, and the first of them."""

    symbol: str
    reason: str
    count: int
    ts: int
    price: float
    reference: float
    """What the first was judged against: the host clock (epoch ms) for ``future``, the last price otherwise."""

    def to_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "reason": self.reason,
            "count": self.count,
            "ts": self.ts,
            "price": self.price,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class Screen:
    """The rules' settings (``LiveSettings``) in the units the screen works in."""

    max_skew_ms: int
    band: float
    window_ms: int

    def apply(
        self, batch: TickBatch, last: Mapping[str, tuple[int, float]], now_ms: int
    ) -> tuple[TickBatch, list[Quarantined]]:
        """The batch without its quarantined ticks, and what was quarantined. ``last``: symbol -> (time, price)
        of its last applied tick, for the symbols that have one."""
        future = batch.ts > now_ms + self.max_skew_ms
        reference = np.full(len(batch), np.nan)
        for index, symbol in enumerate(batch.symbols):
            if symbol in last:
                ts, price = last[symbol]
                mine = batch.symbol_index == index
                reference[mine & (np.abs(batch.ts - ts) <= self.window_ms)] = price
        with np.errstate(invalid="ignore"):
            off_band = ~future & (np.abs(batch.price / reference - 1.0) > self.band)  # NaN reference: False
        bad = future | off_band
        if not bad.any():
            return batch, []
        found = []
        for reason, mask in ((FUTURE, future), (PRICE_BAND, off_band)):
            for index in np.unique(batch.symbol_index[mask]).tolist():
                picked = np.flatnonzero(mask & (batch.symbol_index == index))
                first = int(picked[0])
                found.append(
                    Quarantined(
                        symbol=batch.symbols[index],
                        reason=reason,
                        count=len(picked),
                        ts=int(batch.ts[first]),
                        price=float(batch.price[first]),
                        reference=float(now_ms if reason == FUTURE else reference[first]),
                    )
                )
        keep = ~bad
        kept = TickBatch(
            batch.symbols, batch.symbol_index[keep], batch.ts[keep], batch.price[keep], batch.qty[keep], batch.batch_id
        )
        return kept, found
