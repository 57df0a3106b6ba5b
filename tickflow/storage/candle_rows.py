"""The live working set's row format: a closed candle as one string ``t,o,h,l,c,v``.

``keys.closed_candles`` lists hold one row per closed candle, oldest first. The ingest
script writes them (``workers/lua/ingest.lua``: the time as an integer, prices as the
strings ticks arrived as, volume as ``%.17g``); warm-up writes stored history the same way
(``format_rows``), and everything that reads rows parses them here, so that every reader
gets back the very floats that were written.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from strategies.candles import Candles

FIELDS = ("t", "o", "h", "l", "c", "v")
_COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def format_rows(candles: Candles) -> list[str]:
    """Candles as rows: the time as an integer, prices as Python's shortest ``repr`` (what ingest
    receives them as) and volume as ``%.17g`` (Lua's format in the ingest script)."""
    return [
        f"{t},{o!r},{h!r},{l!r},{c!r},{v:.17g}"
        for t, o, h, l, c, v in zip(
            candles.ts.tolist(),
            candles.open.tolist(),
            candles.high.tolist(),
            candles.low.tolist(),
            candles.close.tolist(),
            candles.volume.tolist(),
        )
    ]


def parse_row(row: str) -> dict[str, int | float]:
    """One row as ``{"t": open time (int ms), "o": ..., "v": ...}``."""
    t, *values = row.split(",")
    return {"t": int(t), **dict(zip(FIELDS[1:], map(float, values)))}


def parse_rows(rows: Iterable[str]) -> list[dict[str, int | float]]:
    return [parse_row(row) for row in rows]


def row_open(row: str) -> tuple[int, float]:
    """A row's open time and open price."""
    t, o = row.split(",", 2)[:2]
    return int(t), float(o)


def candles_from_joined(joined: str) -> Candles:
    """Rows joined by commas (as one Lua ``table.concat`` returns them) as candles; one C-level parse."""
    flat = np.array(joined.split(","), dtype=np.float64) if joined else np.empty(0)
    columns = flat.reshape(-1, len(FIELDS))
    return Candles.from_columns({name: columns[:, i] for i, name in enumerate(_COLUMNS)})
