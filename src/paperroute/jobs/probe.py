"""What the web app asks of the queue without running any job: its depth (``/metrics``) and
whether it answers (``/readyz``). The queue is opened on the first question, so a web node
starts even while the queue is down (and says so on ``/readyz``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..config import Config
from ..model import Check
from .queue import describe, make_queue

log = logging.getLogger("paperroute.jobs")


class QueueProbe:
    """Thread-safe; ``close()`` releases the queue's connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._huey: Any = None
        self._lock = threading.Lock()

    def _queue(self) -> Any:
        with self._lock:
            if self._huey is None:
                self._huey = make_queue(self.config)
            return self._huey

    def pending(self) -> int:
        """Tasks waiting in the queue. Raises whatever the queue's driver raises."""
        return int(self._queue().pending_count())

    def check(self) -> Check:
        try:
            self.pending()
        except Exception as exc:  # any driver's error, or a bad redis_url: not reachable
            log.warning(
                "readiness: the job queue (%s) does not answer: %s", describe(self.config), exc
            )
            return Check(False, "unreachable")
        return Check(True, "reachable")

    def close(self) -> None:
        with self._lock:
            if self._huey is not None:
                close = getattr(self._huey.storage, "close", None)
                if close is not None:
                    close()
                self._huey = None
