"""``RunSoon``: a job run off the caller's thread, one at a time, for caches a request
reads as they are while they are brought up to date (the vector index, For you's term
counts)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor

log = logging.getLogger(__name__)


class RunSoon:
    """Runs a job on an executor, one at a time: asked again while it is queued or running,
    it does nothing. A failure is logged (``what`` names the job) and the next ask tries
    again; an executor already shut down (the hub closing) runs nothing."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._lock = threading.Lock()
        self._busy = False

    def ask(self, executor: Executor, job: Callable[[], object]) -> None:
        with self._lock:
            if self._busy:
                return
            self._busy = True

        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("%s failed", self._what)
            finally:
                self._done()

        try:
            executor.submit(run)
        except RuntimeError:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._busy = False
