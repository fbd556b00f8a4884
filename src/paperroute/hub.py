"""The Hub: the one front door to paperroute's use cases, called alike by the CLI, the web
app and workers.

``open_hub(config)`` is the one place that wires the parts together. Each service owns one
feature: ``hub.papers`` (show, ingest, stats), ``hub.search`` (keyword, semantic and
hybrid search, similar papers, embedding), ``hub.community`` (readers, votes, comments,
collections, moderation), ``hub.digests`` (email digests) and ``hub.recommend``
("For you": ranking papers for a reader's profile, matching library files). The database handle is
private: callers see the services and their result types only. ``clock`` is the one source
of "now" for the services that stamp times (tests pass their own).
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from .clock import Clock, utcnow
from .community import Community
from .config import Config
from .digest import Digests
from .errors import StorageError
from .papers import Papers
from .reading import Reading
from .recommend import Recommender
from .recommend.foryou import ForYou
from .recommend.signals import Signals
from .search import MAX_SEARCH_LIMIT, Embedder, Mode, Searcher, SearchResult, SimilarResult
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
        self.papers = Papers(db, config)
        self.reading = Reading(db, config, clock=clock)
        # The embedder and the vector index are loaded when first needed.
        self.search = Searcher(db, config, embedder)
        self.community = Community(db, config, self.papers, clock=clock)
        self.digests = Digests(db, config, clock=clock)
        # A reader's private For-you signals (feedback, follows, library, settings).
        self.signals = Signals(db, clock=clock)
        self.recommend = Recommender(db, config, self.search, clock=clock)
        self.foryou = ForYou(db, self.recommend, self.signals, clock=clock)

    def database(self) -> str:
        """The database's URL, its password hidden."""
        return shown_url(self.config.database_url)

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
