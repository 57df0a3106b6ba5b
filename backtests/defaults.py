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
DEFAULT_MAX_CHUNK_SIZE = 200
"""The largest chunk chosen by default: ~7 s of ``run_many`` on 1,000,000 bars (~35 ms a set), well
inside the 30 s visibility timeout, so a chunk delivered again while it runs (lease renewal
failed) wastes little. A request may still ask for up to ``MAX_CHUNK_SIZE``."""
MAX_CHUNK_SIZE = 500
