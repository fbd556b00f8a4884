"""``hub.sources``: the scheduled sources (table ``sources``), and ``hub.job_runs``: the
totals of each kind of job (table ``job_runs``).

What a source *fetches* lives with the importers (``jobs/sources.py`` calls ``ingest.py``);
this service keeps the list, the schedule and the lease. A run first claims its source (one
UPDATE that succeeds for one caller only, whatever the database), renews the claim while it
works, and finishes by recording what it added or why it failed; a claim whose holder died
(SIGKILL) lapses after ``lease_s`` (``job_lease_s``) so another worker takes the source over.

Every write transaction here starts with a write, never a read (SQLite: see upkeep/_queries).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import Clock, utcnow
from ..errors import InvalidInput, NotFound
from ..store.schema_jobs import job_runs, sources
from ..store.session import Database
from .schedule import Schedule, check_name, default_name, dumps, retry_delay, source_parameters

MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class Source:
    """A scheduled source as stored, and how its runs went."""

    name: str
    kind: str
    parameters: dict[str, Any]
    schedule: Schedule
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    last_added: int
    total_added: int
    last_error: str | None
    failures: int
    offline_until: dt.datetime | None
    running: bool

    def status(self, now: dt.datetime) -> str:
        """A word for an operator: "running", "offline, next try at ...", "ok", "new"."""
        if self.running:
            return "running"
        if self.offline_until is not None and self.offline_until > now:
            return f"offline, next try at {self.offline_until:%Y-%m-%d %H:%M} UTC"
        if self.last_error:
            return "failed"
        return "ok" if self.last_run_at else "new"


@dataclass(frozen=True, slots=True)
class Claim:
    """A run's hold on a source: renew it while working, give it to ``finish``."""

    source: Source
    token: str
    until: dt.datetime


@dataclass(frozen=True, slots=True)
class JobStats:
    """One kind of job's finished runs since the records began."""

    job: str
    runs: int
    failures: int
    seconds: float
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    last_error: str | None


@dataclass
class SourceRun:
    """What one run of a source did."""

    name: str
    ran: bool = False  # False: not due, or another run holds it
    added: int = 0
    updated: int = 0
    error: str | None = None
    next_run_at: dt.datetime | None = None
    notices: list[str] = field(default_factory=list)


def _source(row: Row[Any], now: dt.datetime) -> Source:
    claimed = row.claimed_until
    return Source(
        name=row.name,
        kind=row.kind,
        parameters=json.loads(row.parameters),
        schedule=Schedule(every_s=row.every_s, at=row.at_time, tz=row.tz),
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        last_added=row.last_added,
        total_added=row.total_added,
        last_error=row.last_error,
        failures=row.failures,
        offline_until=row.offline_until,
        running=claimed is not None and claimed > now,
    )


class Sources:
    """The scheduled sources (see the module docstring). Thread-safe: each call opens its
    own transaction."""

    def __init__(self, db: Database, *, clock: Clock = utcnow, lease_s: float = 60.0) -> None:
        self._db = db
        self.clock = clock
        self.lease = dt.timedelta(seconds=lease_s)

    def add(
        self,
        kind: str,
        schedule: Schedule,
        options: dict[str, Any],
        *,
        name: str | None = None,
    ) -> Source:
        """Store a new source, due at once. Raises InvalidInput (bad parameters, a name
        already taken)."""
        parameters = source_parameters(kind, options)
        chosen = check_name(name) if name else default_name(kind, parameters)
        now = self.clock()
        with self._db.write() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(sources).values(
                name=chosen,
                kind=kind,
                parameters=dumps(parameters),
                every_s=schedule.every_s,
                at_time=schedule.at,
                tz=schedule.tz,
                created_at=now,
                next_run_at=now,
                last_added=0,
                total_added=0,
                failures=0,
            )
            added = connection.execute(
                statement.on_conflict_do_nothing(index_elements=["name"]).returning(sources.c.pk)
            ).first()
        if added is None:
            raise InvalidInput(
                f"a source named {chosen!r} exists already: remove it first, or pick "
                "another with --name"
            )
        return self.get(chosen)

    def get(self, name: str) -> Source:
        with self._db.read() as connection:
            row = connection.execute(select(sources).where(sources.c.name == name)).first()
        if row is None:
            raise NotFound(f"no source named {name[:80]!r} (see `paperroute sources list`)")
        return _source(row, self.clock())

    def listed(self) -> list[Source]:
        now = self.clock()
        with self._db.read() as connection:
            rows = connection.execute(select(sources).order_by(sources.c.name)).all()
        return [_source(row, now) for row in rows]

    def remove(self, name: str) -> None:
        """Raises NotFound."""
        with self._db.write() as connection:
            gone = connection.execute(delete(sources).where(sources.c.name == name)).rowcount
        if not gone:
            raise NotFound(f"no source named {name[:80]!r} (see `paperroute sources list`)")

    def due(self) -> list[str]:
        """Names of the sources whose next run has come and that no run holds."""
        now = self.clock()
        with self._db.read() as connection:
            query = (
                select(sources.c.name)
                .where(sources.c.next_run_at <= now, self._free(now))
                .order_by(sources.c.next_run_at, sources.c.name)
            )
            return [str(name) for name in connection.execute(query).scalars()]

    @staticmethod
    def _free(now: dt.datetime) -> Any:
        return or_(sources.c.claimed_until.is_(None), sources.c.claimed_until < now)

    def claim(self, name: str, token: str, *, force: bool = False) -> Claim | None:
        """Hold ``name`` for one run, when it is due (or ``force``: `sources run`) and no
        other run holds it; None otherwise. Raises NotFound."""
        now = self.clock()
        until = now + self.lease
        condition = [sources.c.name == name, self._free(now)]
        if not force:
            condition.append(sources.c.next_run_at <= now)
        with self._db.write() as connection:
            taken = connection.execute(
                update(sources).where(*condition).values(claimed_by=token, claimed_until=until)
            ).rowcount
        if not taken:
            self.get(name)  # NotFound when it is gone
            return None
        return Claim(self.get(name), token, until)

    def renew(self, claim: Claim) -> Claim:
        """Extend a run's hold (a long harvest calls this now and then)."""
        until = self.clock() + self.lease
        with self._db.write() as connection:
            connection.execute(
                update(sources)
                .where(sources.c.name == claim.source.name, sources.c.claimed_by == claim.token)
                .values(claimed_until=until)
            )
        return Claim(claim.source, claim.token, until)

    def finish(self, claim: Claim, *, added: int, error: str | None) -> dt.datetime:
        """Record a run's outcome and release the source; returns its next run. A failure
        sets the back-off (``offline_until``), doubling with each failure in a row."""
        now = self.clock()
        source = claim.source
        failures = source.failures + 1 if error else 0
        offline = now + retry_delay(failures) if error else None
        following = source.schedule.next_after(now)
        next_run = min(offline, following) if offline is not None else following
        values: dict[str, Any] = {
            "claimed_by": None,
            "claimed_until": None,
            "last_run_at": now,
            "next_run_at": next_run,
            "failures": failures,
            "offline_until": offline,
            "last_error": error[:MAX_ERROR] if error else None,
            "last_added": added,
            "total_added": sources.c.total_added + added,
        }
        with self._db.write() as connection:
            connection.execute(
                update(sources)
                .where(sources.c.name == source.name, sources.c.claimed_by == claim.token)
                .values(**values)
            )
        return next_run


class JobRuns:
    """The totals of each kind of job (``/metrics``; ``paperroute jobs`` shows them)."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self.clock = clock

    def record(self, job: str, *, seconds: float, error: str | None = None) -> None:
        """Count one finished run of ``job`` (failed when ``error`` is given)."""
        now = self.clock()
        failed = 1 if error else 0
        with self._db.write() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            fresh = {
                "job": job[:60],
                "runs": 1,
                "failures": failed,
                "seconds": max(0.0, seconds),
                "last_success_at": None if error else now,
                "last_failure_at": now if error else None,
                "last_error": error[:MAX_ERROR] if error else None,
            }
            statement = dialect.insert(job_runs).values(**fresh)
            changes: dict[str, Any] = {
                "runs": job_runs.c.runs + 1,
                "failures": job_runs.c.failures + failed,
                "seconds": job_runs.c.seconds + max(0.0, seconds),
            }
            if error:
                changes.update(last_failure_at=now, last_error=error[:MAX_ERROR])
            else:
                changes["last_success_at"] = now
            connection.execute(
                statement.on_conflict_do_update(index_elements=["job"], set_=changes)
            )

    def totals(self) -> list[JobStats]:
        with self._db.read() as connection:
            rows = connection.execute(select(job_runs).order_by(job_runs.c.job)).all()
        return [
            JobStats(
                job=row.job,
                runs=row.runs,
                failures=row.failures,
                seconds=float(row.seconds),
                last_success_at=row.last_success_at,
                last_failure_at=row.last_failure_at,
                last_error=row.last_error,
            )
            for row in rows
        ]
