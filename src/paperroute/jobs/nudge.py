"""A vote asks for trending to be precomputed soon (``Jobs.trending_soon``), from the web
process, without ever slowing the vote or failing it.

The web app hooks ``TrendingNudge`` to ``hub.community.on_vote``. The request goes to the
queue on a thread of its own (a queue that hangs must not hold the voter), at most one at a
time, and not again for ``trending_debounce_s`` after this process enqueued a run: a run
enqueued then starts no earlier than that, so it reads every vote of those seconds. When
another process's run was pending already (its start unknown here), the next vote asks the
queue again. No queue (an in-memory database), or one that does not answer: a warning in the
log, and trending is refreshed by its periodic run as before.
"""

from __future__ import annotations

import logging
import threading
import time

from ..config import Config
from ..errors import ConfigError
from ..hub import Hub
from .queue import describe
from .tasks import Jobs

log = logging.getLogger("paperroute.jobs")


class TrendingNudge:
    """Callable with no argument (the after-vote hook). Thread-safe; ``close()`` waits for a
    request in flight and lets go of the queue."""

    def __init__(self, config: Config, hub: Hub) -> None:
        self.config = config
        self._hub = hub
        self._jobs: Jobs | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._quiet_until = 0.0
        self._off = config.trending_debounce_s <= 0

    def __call__(self) -> None:
        now = time.monotonic()
        with self._lock:
            busy = self._thread is not None and self._thread.is_alive()
            if self._off or busy or now < self._quiet_until:
                return
            self._quiet_until = now + self.config.trending_debounce_s
            self._thread = threading.Thread(
                target=self._ask, name="paperroute-trending-nudge", daemon=True
            )
            self._thread.start()

    def _ask(self) -> None:
        try:
            with self._lock:
                if self._jobs is None:
                    self._jobs = Jobs(self.config, hub=self._hub)
                jobs = self._jobs
            enqueued = jobs.trending_soon()
        except ConfigError as exc:  # no queue can exist (an in-memory database)
            log.info("votes do not refresh trending: %s", exc)
            with self._lock:
                self._off = True
            return
        except Exception as exc:  # any driver's error: the queue is away
            log.warning(
                "could not ask for trending after a vote (%s): %s", describe(self.config), exc
            )
            enqueued = True  # not again before the quiet time: the queue is away
        if not enqueued:
            with self._lock:
                self._quiet_until = 0.0  # another's run is pending: when, this one cannot tell

    def wait(self, timeout: float = 30.0) -> None:
        """Until a request in flight is done (tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        self.wait()
        with self._lock:
            self._off = True
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.close()
