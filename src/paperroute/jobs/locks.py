"""Huey's task lock with a lease, so that a worker killed while holding one (SIGKILL, a
power cut) does not stop that job for good.

``huey.lock_task(name)`` stores a key while the job runs and deletes it after; a holder that
dies leaves the key, and Huey's only cure is ``flush_locks`` when a consumer starts, which
would also break the lock of a live worker on another machine. Here the key's value is the
moment the lease ends, pushed on by the live holder (``heartbeat``) every third of it: a
caller that finds the key *and* that moment past takes the lock over. The database claims
behind every job (sources, enrichment, stars, the digests' send lease) keep the work itself
from being done twice even if two holders ever overlap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from huey.api import TaskLock
from huey.exceptions import TaskLockedException

__all__ = ["LeasedLock", "TaskLockedException", "heartbeat"]

log = logging.getLogger("paperroute.jobs")


class LeasedLock(TaskLock):  # type: ignore[misc]  # huey ships no type information
    """``with LeasedLock(huey, "embed", lease_s=3600):`` runs the block holding the lock,
    or raises TaskLockedException while another live holder has it."""

    def __init__(self, huey: Any, name: str, lease_s: float) -> None:
        super().__init__(huey, name)
        self.lease_s = lease_s

    def acquire(self) -> bool:
        deadline = time.time() + self.lease_s
        if self._huey.put_if_empty(self._key, deadline):
            return True
        held = self._huey.get(self._key, peek=True)
        if isinstance(held, int | float) and held < time.time():
            # The holder's lease ran out: it died. Take over (one taker wins the put).
            self._huey.delete(self._key)
            if self._huey.put_if_empty(self._key, deadline):
                return True
        raise TaskLockedException(f"unable to acquire lock {self._name}")

    def renew(self) -> None:
        """Push the lease's end ``lease_s`` from now (the holder is alive)."""
        self._huey.put(self._key, time.time() + self.lease_s)

    def __enter__(self) -> LeasedLock:
        self.acquire()
        return self


@contextmanager
def heartbeat(renew: Callable[[], object], every_s: float) -> Iterator[None]:
    """Call ``renew`` every ``every_s`` seconds in a thread while the block runs: how a live
    holder keeps its lease (a lock, a source's claim) however long its work takes."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                renew()
            except Exception:  # the database or the queue hiccupped: try at the next beat
                log.warning("could not renew a lease; trying again in %.0f s", every_s)

    thread = threading.Thread(target=beat, name="paperroute-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
