"""socratic.memory: freed heap memory goes back to the OS (glibc's malloc_trim)."""

from __future__ import annotations

import os
from pathlib import Path

from socratic.memory import return_freed_memory


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_freed_heap_blocks_are_given_back():
    blocks = [bytearray(100_000) for _ in range(2_000)]  # 200 MB of blocks below the mmap threshold: the heap
    del blocks[::2]  # 100 MB freed in holes between live blocks, which glibc keeps resident
    before = _resident_mb()
    return_freed_memory()
    assert before - _resident_mb() > 50
    assert len(blocks) == 1_000
