"""The Hub: the one front door to paperroute's use cases, called alike by the CLI, the web
app and workers.

``open_hub(config)`` is the one place that wires the parts together. Each service owns one
feature: ``hub.papers`` (show, ingest, stats), ``hub.search`` (keyword, semantic and
hybrid search, similar papers, embedding), ``hub.community`` (readers, votes, comments,
collections, moderation), ``hub.digests`` (email digests), ``hub.upkeep`` (the
periodic jobs: arXiv enrichment, inferred categories, code stars), ``hub.sources`` and
``hub.job_runs`` (the scheduled sources and the background jobs' totals) and ``hub.recommend``
("For you": ranking papers for a reader's profile, matching library files). The database handle is
private: callers see the services and their result types only. ``clock`` is the one source
of "now" for the services that stamp times (tests pass their own).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .clock import Clock, utcnow
from .community import Community
from .config import Config
from .digest import Digests
from .errors import ConfigError, InvalidInput, StorageError
from .mail.check import MailCheck, check_smtp
from .mail.headers import envelope_sender, new_message
from .mail.transport import smtp_settings
from .model import Check
from .papers import Papers
from .reading import Reading
from .recommend import Recommender
from .recommend.foryou import ForYou
from .recommend.signals import Signals
from .search import (
    MAX_SEARCH_LIMIT,
    Embedder,
    Mode,
    Searcher,
    SearchResult,
    SimilarResult,
    default_index_folder,
)
from .site.addresses import InvalidAddress, normalise_email
from .site.outbox import uses_outbox
from .store.backup import (
    Backup,
    Restore,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_file,
)
from .store.engine import create_db_engine, current_revision, head_revision, migrate, shown_url
from .store.session import Database
from .upkeep import Upkeep
from .upkeep.sources import JobRuns, Sources

_log = logging.getLogger("paperroute.hub")


class Hub:
    """paperroute's use cases over one database (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        embedder: Embedder | None = None,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self.config = config
        self._clock = clock
        self._head: str | None = None
        self.papers = Papers(db, config)
        self.reading = Reading(db, config, clock=clock)
        # The embedder and the vector index are loaded when first needed.
        self.search = Searcher(db, config, embedder)
        self.community = Community(db, config, self.papers, clock=clock)
        self.upkeep = Upkeep(db, config, self.papers, self.search, clock=clock)
        # The scheduled sources and the background jobs' totals (jobs/ runs them).
        self.sources = Sources(db, clock=clock, lease_s=config.job_lease_s)
        self.job_runs = JobRuns(db, clock=clock)
        # A reader's private For-you signals (feedback, follows, library, settings).
        self.signals = Signals(db, clock=clock)
        self.recommend = Recommender(db, config, self.search, clock=clock)
        self.foryou = ForYou(db, self.recommend, self.signals, clock=clock)
        # The digest's For-you section ranks with the reader's own profile.
        self.digests = Digests(
            db, config, clock=clock, recommender=self.recommend, foryou=self.foryou
        )

    def database(self) -> str:
        """The database's URL, its password hidden."""
        return shown_url(self.config.database_url)

    def check_mail(self, to: str | None = None) -> MailCheck:
        """Connect to the configured SMTP server, negotiate TLS, sign in and, given ``to``,
        send it a test message; each step is recorded (``paperroute mail check``, and what a
        readiness probe calls without ``to``). Raises InvalidInput for a bad ``to`` only."""
        result = MailCheck()
        address = None
        if to is not None:
            try:
                address = normalise_email(to)
            except InvalidAddress as exc:
                raise InvalidInput(f"--to: {exc}") from None
        if uses_outbox(self.config):
            result.add("outbox", True, "smtp_url is 'outbox': mail is kept in the database")
            return result
        if not self.config.smtp_url:
            result.add("config", False, "smtp_url is not set: no mail can be sent")
            return result
        try:
            settings = smtp_settings(self.config)
            message = None
            if address is not None:
                message = new_message(self.config, address, "paperroute mail check", self._clock())
                message.set_content(
                    "This test message was sent by `paperroute mail check`: mail from this hub "
                    f"reaches {address}.\n"
                )
            sender = envelope_sender(self.config, address or "someone@example.org")
        except ConfigError as exc:
            result.add("config", False, str(exc))
            return result
        result.add("config", True, f"{settings.security} to {settings.where}, MAIL FROM {sender}")
        checked = check_smtp(settings, message=message, envelope_from=sender)
        result.steps.extend(checked.steps)
        return result

    def check_database(self) -> Check:
        """Readiness: the database answers a query. The reason of a failure is logged, not
        returned (it may name the server)."""
        try:
            with self._db.read() as connection:
                connection.execute(text("SELECT 1"))
        except StorageError as exc:
            _log.warning("readiness: the database does not answer: %s", exc)
            return Check(False, "unreachable")
        return Check(True, "reachable")

    def check_migrations(self) -> Check:
        """Readiness: the database's schema revision is the one this code expects (another
        node may have migrated it further, or a restore put an older one back)."""
        if self._head is None:
            self._head = head_revision()  # reads the migration scripts: once
        expected = self._head
        try:
            found = current_revision(self._db.engine)
        except SQLAlchemyError as exc:
            _log.warning("readiness: cannot read the schema revision: %s", exc)
            return Check(False, "cannot read the schema revision")
        if found != expected:
            return Check(False, f"database at revision {found or 'none'}, code at {expected}")
        return Check(True, f"at revision {expected}")

    def close(self) -> None:
        self.search.close()
        self.recommend.close()
        self.reading.close()
        self._db.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = [
    "MAX_SEARCH_LIMIT",
    "Backup",
    "Hub",
    "Mode",
    "Restore",
    "SearchResult",
    "SimilarResult",
    "backup_database",
    "open_hub",
    "restore_database",
]


def open_hub(config: Config, embedder: Embedder | None = None, *, clock: Clock = utcnow) -> Hub:
    """Open (creating and migrating when needed) the database named by ``config``.
    ``embedder`` replaces the configured one (tests use small deterministic ones); ``clock``
    the current time (tests run digests and expiries at fixed times)."""
    engine = create_db_engine(config.database_url, synchronous=config.sqlite_synchronous)
    try:
        migrate(engine)
    except StorageError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open {config.database_url}: {exc}") from exc
    return Hub(Database(engine), config, embedder, clock=clock)


def backup_database(config: Config, target: Path) -> Backup:
    """Back up the database named by ``config`` while it is in use (``store/backup.py``):
    SQLite to the file ``target`` (never overwritten) with its vector index folder beside
    it; for PostgreSQL, the ``pg_dump`` command to run (no password in it). Raises
    InvalidInput or StorageError."""
    database = sqlite_file(config.database_url)
    if database is None:
        return Backup(command=pg_dump_command(config.database_url, target))
    index = default_index_folder(config.database_url, config.vector_index_dir)
    return backup_sqlite(database, target, index)


def restore_database(config: Config, source: Path, *, force: bool = False) -> Restore:
    """Put the backup ``source`` where ``config``'s database lives, after checking it; an
    existing database is replaced only with ``force``. PostgreSQL: the ``pg_restore``
    command to run. Raises InvalidInput or StorageError."""
    database = sqlite_file(config.database_url)
    if database is None:
        return Restore(command=pg_restore_command(config.database_url, source))
    index = default_index_folder(config.database_url, config.vector_index_dir)
    return restore_sqlite(source, database, index, force=force)
