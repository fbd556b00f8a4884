"""The Hub: the one front door to paperroute's use cases, called alike by the CLI, the web
app and workers.

``open_hub(config)`` is the one place that wires the parts together. Each service owns one
feature: ``hub.papers`` (show, ingest, stats), ``hub.search`` (keyword, semantic and
hybrid search, similar papers, embedding), ``hub.community`` (readers, votes, comments,
collections, moderation) and ``hub.digests`` (email digests). The database handle is
private: callers see the services and their result types only. ``clock`` is the one source
of "now" for the services that stamp times (tests pass their own).
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from .clock import Clock, utcnow
from .community import Community
from .config import Config
from .digest import Digests
from .errors import ConfigError, InvalidInput, StorageError
from .mail.check import MailCheck, check_smtp
from .mail.headers import envelope_sender, new_message
from .mail.transport import smtp_settings
from .papers import Papers
from .reading import Reading
from .search import MAX_SEARCH_LIMIT, Embedder, Mode, Searcher, SearchResult, SimilarResult
from .site.addresses import InvalidAddress, normalise_email
from .site.outbox import uses_outbox
from .store.engine import create_db_engine, migrate, shown_url
from .store.session import Database


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
        self.papers = Papers(db, config)
        self.reading = Reading(db, config, clock=clock)
        # The embedder and the vector index are loaded when first needed.
        self.search = Searcher(db, config, embedder)
        self.community = Community(db, config, self.papers, clock=clock)
        self.digests = Digests(db, config, clock=clock)

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

    def close(self) -> None:
        self.search.close()
        self.reading.close()
        self._db.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = ["MAX_SEARCH_LIMIT", "Hub", "Mode", "SearchResult", "SimilarResult", "open_hub"]


def open_hub(config: Config, embedder: Embedder | None = None, *, clock: Clock = utcnow) -> Hub:
    """Open (creating and migrating when needed) the database named by ``config``.
    ``embedder`` replaces the configured one (tests use small deterministic ones); ``clock``
    the current time (tests run digests and expiries at fixed times)."""
    engine = create_db_engine(config.database_url)
    try:
        migrate(engine)
    except StorageError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open {config.database_url}: {exc}") from exc
    return Hub(Database(engine), config, embedder, clock=clock)
