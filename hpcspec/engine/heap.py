"""The objects an apply starts with, kept out of the cyclic garbage collector's passes.

An apply begins with the manifest, the plan and the live stack in memory: hundreds of
thousands of objects for a large stack, none of them garbage while the apply runs. Its worker
threads then allocate enough that the collector soon makes a full pass, which visits every one
of those objects while holding the GIL, so no worker can send or read a request meanwhile. On
the 40 jobs × 50 tasks job XML apply that pass came within the first 10 ms and took 20–28 ms:
the first wave's creates went out one at a time instead of together
(benchmarks/bench_apply_proxy.py; docs/performance.md, *GC pauses*). `gc.freeze` moves every
object alive at the start into a generation the collector never visits; they are given back
when the outermost apply of the process ends, so a process that applies many times (a
reconcile service, the tests) collects as before between applies.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects alive now for the block (nested and concurrent blocks share it)."""
    global _depth
    with _lock:
        _depth += 1
        gc.freeze()  # an inner block freezes what the outer ones allocated since: harmless
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
