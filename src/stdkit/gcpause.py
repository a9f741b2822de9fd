"""Building a large tree of new objects without the cyclic garbage collector walking it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (as it was again after it).

    For building a tree of fresh objects (a parsed document, a model, a page's nodes): while it
    grows, every collection would walk it again, for nothing when it has no cycles, or when
    its cycles are cut before it is let go.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
