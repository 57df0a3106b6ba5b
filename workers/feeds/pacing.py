"""Mapping a feed's own timestamps onto the wall clock, so that simulated and replayed ticks arrive on time."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Releases ticks with timestamp ``ts`` (epoch ms) ``(ts - origin) / speed`` ms after the anchoring moment.

    ``speed`` 1.0 is real time, 60 replays a minute a second, 0 never waits.
    Pacing against an anchor rather than sleeping between ticks keeps errors
    from adding up: a late wake-up is caught up by the next ticks.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed >= 0:
            raise ValueError("speed must be >= 0 (0: as fast as possible)")
        self.speed = speed
        self._origin_ms = 0
        self._origin_wall = 0.0

    def anchor(self, ts_ms: int) -> None:
        """Make ``ts_ms`` due now: at the start, and after a pause (a lockstep wait) that must not be caught up."""
        self._origin_ms = ts_ms
        self._origin_wall = time.monotonic()

    def due_ms(self) -> float:
        """The latest feed timestamp due now (infinite when not paced): every tick with ``ts <= due_ms()`` may go."""
        if self.speed == 0:
            return float("inf")
        return self._origin_ms + (time.monotonic() - self._origin_wall) * 1000 * self.speed

    async def wait_until(self, ts_ms: float) -> None:
        """Sleep until ``ts_ms`` is due."""
        if self.speed:
            delay = self._origin_wall + (ts_ms - self._origin_ms) / 1000 / self.speed - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
