"""Defaults and limits of backtest and sweep requests, importable without the engine.

The CLI builds its options from them, and the ``tickflow`` command should not
load numba to print its help.
"""

DEFAULT_CASH = 10_000.0
DEFAULT_OBJECTIVE = "sharpe"

STAGES = ("loading", "running", "storing")
"""What a run's ``progress.stage`` goes through while it runs (steps 1 to 3)."""

MAX_COMBOS = 100_000
"""Parameter sets one sweep may run."""
MAX_GRID_POINTS = 1_000_000
"""Points of the grid before the constraint and sampling: what planning enumerates."""
MAX_VALUES = 1_000
"""Values of one parameter: each is checked against the strategy when the sweep is planned."""
TARGET_CHUNKS = 64
MIN_CHUNK_SIZE = 8
MAX_CHUNK_SIZE = 500
