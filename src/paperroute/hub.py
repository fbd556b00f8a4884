"""The Hub: every use case of paperroute, called alike by the CLI, the web app and workers.

``open_hub(config)`` is the one place that wires the parts together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from .config import Config
from .errors import NotFound, SourceError, StorageError
from .model import IngestReport, Paper, PaperRecord, ParseItem, RecordError
from .search.embedder import Embedder
from .search.keyword import KeywordHit
from .search.service import MAX_SEARCH_LIMIT, Mode, Searcher, SearchResult
from .store import queries
from .store.engine import create_db_engine, migrate
from .store.state import get_state, put_state
from .store.writer import PaperWriter

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class Hub:
    """paperroute's use cases over one database. Not thread-safe for writes: one importer at
    a time per database; any number of readers."""

    def __init__(self, engine: Engine, config: Config, embedder: Embedder | None = None) -> None:
        self.engine = engine
        self.config = config
        self._writer = PaperWriter(engine)
        # Search: the embedder and the vector index, loaded when first needed.
        self.searcher = Searcher(engine, config, embedder)

    def close(self) -> None:
        self.searcher.close()
        self.engine.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {exc.__class__.__name__}: {exc}") from exc

    # -- ingest -------------------------------------------------------------------------

    def ingest(
        self,
        items: Iterable[ParseItem],
        *,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Store parsed records in batches; a bad record is reported in the result and
        never stops the rest. Each batch is one transaction, so an interrupted import keeps
        every finished batch and a re-run only does the rest (unchanged records are cheap)."""
        size = batch_size or self.config.ingest_batch_size
        report = IngestReport()
        batch: list[PaperRecord] = []
        iterator = iter(items)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                break
            except SourceError as exc:
                # The input broke off (an unreadable stream, a parser process that died):
                # keep what came before it, and say where it stopped.
                report.skipped.append(RecordError("input", exc.url or "input", str(exc)))
                break
            if isinstance(item, RecordError):
                report.skipped.append(item)
                if progress:
                    progress(1)
                continue
            batch.append(item)
            if len(batch) >= size:
                self._write_batch(batch, report, progress)
                batch = []
        if batch:
            self._write_batch(batch, report, progress)
        return report

    def _write_batch(
        self, batch: list[PaperRecord], report: IngestReport, progress: Progress | None
    ) -> None:
        try:
            outcomes = self._writer.write(batch)
        except (IntegrityError, DataError, UnicodeEncodeError) as exc:
            # A record the database refuses: find it, store the others.
            log.warning("batch of %d failed (%s); writing its records one by one", len(batch), exc)
            outcomes = []
            for record in batch:
                try:
                    outcomes.extend(self._writer.write([record]))
                except (IntegrityError, DataError, UnicodeEncodeError) as single:
                    cause = getattr(single, "orig", None) or single
                    reason = f"the database refused it: {cause.__class__.__name__}: {cause}"
                    report.skipped.append(RecordError(record.source, record.source_key, reason))
                except SQLAlchemyError as broken:
                    raise _storage_error(broken) from broken
        except SQLAlchemyError as exc:
            # The database itself failed (gone, locked, full): every later batch would too.
            raise _storage_error(exc) from exc
        for record in batch:
            for warning in record.warnings:
                report.warn(f"{record.source_key}: {warning}")
        for outcome in outcomes:
            if outcome == "inserted":
                report.inserted += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
        if progress:
            progress(len(batch))

    def checkpoint(self, key: str) -> dict[str, Any] | None:
        """The saved state of a resumable import (an OAI-PMH harvest, a feed), or None."""
        with self._read() as connection:
            return get_state(connection, key)

    def save_checkpoint(self, key: str, value: dict[str, Any]) -> None:
        try:
            with self.engine.begin() as connection:
                put_state(connection, key, value)
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from exc

    # -- queries ------------------------------------------------------------------------

    def paper(self, ref: str) -> Paper:
        """A paper by id, arXiv id (any version or URL) or DOI. Raises NotFound."""
        with self._read() as connection:
            pk = queries.find_paper_pk(connection, ref)
            if pk is None:
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            return queries.load_paper(connection, pk)

    def search(
        self, text: str, *, mode: Mode | str = Mode.keyword, limit: int = 20
    ) -> SearchResult:
        """Search in ``mode`` (keyword, semantic or hybrid). Any text is a valid query: what
        cannot be used is reported in ``notices``, never raised; hybrid falls back to keyword
        search while no paper has a vector."""
        try:
            return self.searcher.search(text, mode=Mode(mode), limit=limit)
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {exc.__class__.__name__}: {exc}") from exc

    def similar(self, ref: str, *, limit: int = 10) -> SimilarResult:
        """Papers similar to the paper ``ref`` (itself excluded): its text's BM25 neighbours
        fused with its vector neighbours. Raises NotFound."""
        if "\x00" in ref:  # PostgreSQL refuses NUL in text: no paper has one
            raise NotFound(f"no paper {ref.replace(chr(0), '').strip()[:100]!r}")
        with self._read() as connection:
            pk = queries.find_paper_pk(connection, ref)
            if pk is None:
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            paper = queries.load_paper(connection, pk)
        try:
            hits, notices = self.searcher.similar(pk, paper.title, paper.abstract, limit=limit)
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {exc.__class__.__name__}: {exc}") from exc
        return SimilarResult(paper, pk, tuple(hits), tuple(notices))

    def embed(
        self,
        *,
        batch_size: int | None = None,
        on_start: Callable[[int], None] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Embed every paper without a current vector, a batch per transaction (an
        interruption keeps every finished batch). Returns how many were embedded."""
        try:
            return self.searcher.embed(batch_size=batch_size, on_start=on_start, progress=progress)
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from exc

    def store_term_bags(
        self,
        on_start: Callable[[int], None] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Store the term bags (for similar papers) of every paper without one; returns how
        many were made."""
        try:
            return self.searcher.store_term_bags(on_start, progress)
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from exc

    def stats(self) -> queries.Stats:
        with self._read() as connection:
            return queries.stats(connection)


__all__ = ["MAX_SEARCH_LIMIT", "Hub", "Mode", "SearchResult", "SimilarResult", "open_hub"]


@dataclass(frozen=True, slots=True)
class SimilarResult:
    paper: Paper
    pk: int
    hits: tuple[KeywordHit, ...]
    notices: tuple[str, ...]


def _storage_error(exc: SQLAlchemyError) -> StorageError:
    cause = getattr(exc, "orig", None) or exc
    return StorageError(
        f"the database failed while writing ({cause.__class__.__name__}: {cause}); "
        "every earlier batch is stored: run the import again to resume"
    )


def open_hub(config: Config, embedder: Embedder | None = None) -> Hub:
    """Open (creating and migrating when needed) the database named by ``config``.
    ``embedder`` replaces the configured one (tests use small deterministic ones)."""
    engine = create_db_engine(config.database_url)
    try:
        migrate(engine)
    except StorageError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open {config.database_url}: {exc}") from exc
    return Hub(engine, config, embedder)
