"""Fixtures for the strategies tests: generated candles and a minimal valid document."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

_MINIMAL_DOC: dict[str, Any] = {
    "name": "SMA cross",
    "symbols": ["BTCUSDT"],
    "timeframe": "1h",
    "params": {"fast": 10, "slow": 20},
    "indicators": {
        "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
        "slow": {"function": "SMA", "params": {"timeperiod": "$slow"}},
    },
    "rules": {"enter_long": "crosses_above(fast, slow)", "exit_long": "crosses_below(fast, slow)"},
}


def random_walk_ohlcv(bars: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Plausible candles: a geometric random walk for closes, with highs/lows around open and close."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.004, bars)) * close
    return {
        "open": open_,
        "high": np.maximum(open_, close) + wick,
        "low": np.minimum(open_, close) - wick,
        "close": close,
        "volume": rng.uniform(10, 1000, bars),
    }


@pytest.fixture
def ohlcv() -> dict[str, np.ndarray]:
    return random_walk_ohlcv(3000)


@pytest.fixture
def make_ohlcv():
    """``make_ohlcv(bars, seed=7)`` -> random-walk candles."""
    return random_walk_ohlcv


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of a minimal valid document, for tests to break one field at a time."""
    return copy.deepcopy(_MINIMAL_DOC)
