"""Tables of the background jobs (migration 0014, issue 11).

- ``sources``: the scheduled sources an operator added (``paperroute sources add``): what to
  fetch (``kind`` and its JSON ``parameters``), when (every ``every_s`` seconds, or daily at
  ``at_time`` in ``tz``), and how the last runs went. ``claimed_by`` / ``claimed_until`` is a
  lease: a run holds its source until it finishes or the lease lapses (a killed worker), so
  two runs at once never fetch the same source. ``failures`` counts the failed runs in a row
  (the back-off of ``offline_until``).
- ``job_runs``: one row per kind of job: its finished runs, failures and summed durations
  (what ``/metrics`` reports), and the last error.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

sources = Table(
    "sources",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # hf-daily, oai, rss, arxiv-api
    Column("parameters", Text, nullable=False),  # JSON object
    Column("every_s", Integer),  # an interval, or
    Column("at_time", String(5)),  # "HH:MM" daily, in
    Column("tz", String(64)),  # this IANA time zone
    Column("created_at", TZ, nullable=False),
    Column("next_run_at", TZ, nullable=False),
    Column("last_run_at", TZ),
    Column("last_added", Integer, nullable=False),
    Column("total_added", Integer, nullable=False),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False),
    Column("offline_until", TZ),
    Column("claimed_by", String(40)),
    Column("claimed_until", TZ),
    Index("ix_sources_next_run", "next_run_at"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(60), primary_key=True),
    Column("runs", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("last_success_at", TZ),
    Column("last_failure_at", TZ),
    Column("last_error", Text),
)
