"""A served process's heap: what it holds once started (its modules, the app, the hub:
~140,000 objects the garbage collector tracks) set aside from the collector's full
collections, which otherwise walk all of it from time to time on a request's thread (70-120
ms at a time here, the slowest searches' time at 1M papers)."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect what is garbage now, then freeze the rest (``gc.freeze``): the collector's
    full collections walk only what was made since. Once a process, once it has started
    (an object frozen here and later part of a cycle of garbage is never collected, so
    this is not for a process that opens and closes many hubs, as tests do)."""
    gc.collect()
    gc.freeze()
