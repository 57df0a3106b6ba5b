"""Process-wide tuning for the long-running, latency-sensitive processes (live workers, feed, API, stream)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time


def freeze_startup_objects() -> None:
    """Move every object alive now out of the garbage collector's reach for good.

    A full collection walks every tracked object: with the modules, numba, TA-Lib and
    Celery's own machinery loaded, measured pauses were 70-100 ms, stalling whatever tick
    batch or close was in flight. What a process has built by the end of its start-up lives
    as long as the process, so collecting it can only cost time. Called before a fork, the
    frozen objects' memory also stays shared with the children.
    """
    gc.collect()
    gc.freeze()


class FreedMemoryTrim:
    """Hands the C heap's free pages back to the OS (glibc's ``malloc_trim``), at most once every ``every_s``.

    A live worker's pool process allocates and frees array buffers of every size close after close;
    glibc keeps what was freed inside its heap for reuse, so RSS shows the heap's high-water mark rather
    than what is in use. Trimming gives the free pages back (100 MB of holes in ~10 ms, measured); in
    the soak a pool process's heap then moved between 53 and 65 MB. (The creep the soak once measured
    was pymalloc's arenas, not this heap: docs/live-engine.md, "Soak".) Without glibc (musl, macOS) it
    does nothing.
    """

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._last = time.monotonic()
        libc = ctypes.util.find_library("c")
        self._trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None

    def maybe(self) -> bool:
        """Trim if ``every_s`` has passed since the last time; whether it did."""
        now = time.monotonic()
        if self._trim is None or now - self._last < self.every_s:
            return False
        self._last = now
        self._trim(0)
        return True
