"""Papers: show, ingest and count them (``hub.papers``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from .config import Config
from .errors import NotFound, SourceError
from .model import IngestReport, Paper, PaperRecord, ParseItem, RecordError
from .store import queries
from .store.session import Database, resumable_write_error
from .store.state import get_state, put_state
from .store.writer import PaperWriter

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class Papers:
    """The paper store's use cases. Not thread-safe for writes: one importer at a time per
    database; any number of readers."""

    def __init__(self, db: Database, config: Config) -> None:
        self._db = db
        self.config = config
        self._writer = PaperWriter(db.engine)

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
                    raise resumable_write_error(broken) from broken
        except SQLAlchemyError as exc:
            # The database itself failed (gone, locked, full): every later batch would too.
            raise resumable_write_error(exc) from exc
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
        with self._db.read() as connection:
            return get_state(connection, key)

    def save_checkpoint(self, key: str, value: dict[str, Any]) -> None:
        try:
            with self._db.engine.begin() as connection:
                put_state(connection, key, value)
        except SQLAlchemyError as exc:
            raise resumable_write_error(exc) from exc

    def show(self, ref: str) -> Paper:
        """A paper by id, arXiv id (any version or URL) or DOI. Raises NotFound."""
        with self._db.read() as connection:
            pk = queries.find_paper_pk(connection, ref)
            if pk is None:
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            return queries.load_paper(connection, pk)

    def count_by_source(self) -> dict[str, int]:
        """Papers per source (``arxiv-oai``, ``hf-daily``...): what /metrics exports."""
        with self._db.read() as connection:
            return queries.papers_by_source(connection)

    def stats(self) -> queries.Stats:
        with self._db.read() as connection:
            return queries.stats(connection)
