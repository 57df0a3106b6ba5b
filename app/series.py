"""Time series cut down to what a chart can draw.

A curve of a million points is tens of megabytes of JSON and more points than a screen has
pixels. ``sampled`` keeps, for each of at most ``max_points`` equal slices of time, the last
point in it: the value at the slice's end, which is what an equity or balance curve means
at that moment.
"""

from __future__ import annotations

import numpy as np


def sampled(times: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of the points to keep, in order: all of them when there are at most ``max_points``."""
    if len(times) <= max_points:
        return np.arange(len(times))
    first, last = int(times[0]), int(times[-1])
    edges = np.linspace(first, last, max_points + 1)[1:-1]
    slices = np.searchsorted(edges, times, side="left")
    ends = np.flatnonzero(np.diff(slices))
    return np.append(ends, len(times) - 1)
