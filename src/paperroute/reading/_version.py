"""The data version behind the web's page cache: a value that changes whenever a list, a page
or a count a reader sees may change.

On SQLite ``PRAGMA data_version`` of a connection kept for it (it changes whenever any other
connection commits); on PostgreSQL the write-ahead log position (it moves with every
committed write). Internal: ``Reading.data_version()`` answers with it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import text

from ..store.session import Database

# PostgreSQL: the write-ahead log insert position moves with every write (and, on a replica,
# with every replayed one), so it is an exact "something may have changed" signal that costs
# no table scan. Other writers' changes only refresh the cache early.
_WAL_POSITION = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text "
    "ELSE pg_current_wal_insert_lsn()::text END"
)


class DataVersion:
    """Thread-safe; ``close()`` lets go of the connection kept on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._watch: Any = None  # a DBAPI connection kept for PRAGMA data_version

    def __call__(self) -> tuple[Any, ...]:
        if self._db.dialect == "sqlite":
            with self._lock:
                if self._watch is None:
                    self._watch = self._db.engine.raw_connection()
                cursor = self._watch.cursor()
                try:
                    cursor.execute("PRAGMA data_version")
                    return ("sqlite", cursor.fetchone()[0])
                finally:
                    cursor.close()
        with self._db.engine.connect() as connection:
            return ("postgresql", connection.execute(_WAL_POSITION).scalar_one())

    def close(self) -> None:
        with self._lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
