"""Process-wide tuning of the long-running processes (``tickflow.runtime``)."""

from __future__ import annotations

import psutil

from tickflow.runtime import FreedMemoryTrim

MB = 1024 * 1024


def test_memory_freed_inside_the_heap_goes_back_to_the_os_when_trimmed():
    """100 MB of 1 KB buffers freed but for every hundredth: glibc keeps the holes for reuse, so RSS stays up
    until the trim hands them back."""
    process = psutil.Process()
    buffers = [bytearray(1024) for _ in range(100_000)]
    kept = buffers[::100]
    del buffers
    before = process.memory_info().rss
    trim = FreedMemoryTrim(every_s=0.0)
    assert trim.maybe()
    assert before - process.memory_info().rss > 50 * MB
    assert len(kept) == 1_000


def test_trimming_happens_at_most_once_per_interval():
    trim = FreedMemoryTrim(every_s=3600.0)
    assert not trim.maybe()  # the interval counts from the trimmer's start
    assert not FreedMemoryTrim(every_s=3600.0).maybe()
    assert FreedMemoryTrim(every_s=0.0).maybe()
