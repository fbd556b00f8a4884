"""The background jobs (issue 11): Huey tasks and schedules over the hub's use cases.

``Jobs(config)`` is one process's queue and tasks; ``run_worker`` consumes it
(``paperroute worker``), ``EmbeddedWorker`` inside ``paperroute serve`` on SQLite;
``run_source`` runs one scheduled source (``paperroute sources run``, and the ingest job).
"""

from ..upkeep.schedule import KINDS, make_schedule
from ..upkeep.sources import Source, SourceRun
from .nudge import TrendingNudge
from .probe import QueueProbe
from .queue import describe, make_queue, queue_file
from .sources import describe_run, run_source
from .tasks import Jobs, Tasks
from .worker import EmbeddedWorker, consumer, run_worker

__all__ = [
    "KINDS",
    "EmbeddedWorker",
    "Jobs",
    "QueueProbe",
    "Source",
    "SourceRun",
    "Tasks",
    "TrendingNudge",
    "consumer",
    "describe",
    "describe_run",
    "make_queue",
    "make_schedule",
    "queue_file",
    "run_source",
    "run_worker",
]
