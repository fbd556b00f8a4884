"""The one way features reach the database: connections that map database errors once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError


def storage_error(exc: SQLAlchemyError) -> StorageError:
    """The StorageError for a failure of the database (gone, locked, full, refusing)."""
    cause = getattr(exc, "orig", None) or exc
    return StorageError(f"database error: {cause.__class__.__name__}: {cause}")


def resumable_write_error(exc: SQLAlchemyError) -> StorageError:
    """The StorageError for a batch job (an import, embedding) whose database failed: every
    finished batch is kept, so running it again resumes."""
    cause = getattr(exc, "orig", None) or exc
    return StorageError(
        f"the database failed while writing ({cause.__class__.__name__}: {cause}); "
        "every earlier batch is stored: run the import again to resume"
    )


class Database:
    """A handle on one database, shared by every feature of a Hub. Thread-safe: each
    ``read()`` or ``write()`` takes its own pooled connection.

    Raises StorageError (never a SQLAlchemy error) when the database fails; errors raised
    by the caller's own code inside the block pass through unchanged."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries (no transaction is committed)."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    def dispose(self) -> None:
        self.engine.dispose()
