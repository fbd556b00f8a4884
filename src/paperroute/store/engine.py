"""Opening the database: engines with the right per-connection settings, and migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import StorageError

_MIGRATIONS = Path(__file__).with_name("migrations")
_SQLITE_MIN = (3, 35)


SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}


def _sqlite_settings(synchronous: str) -> Any:
    level = SYNCHRONOUS[synchronous]

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_on_connect(dbapi_connection, level)

    return on_connect


def _sqlite_on_connect(dbapi_connection: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web hub) work while an import writes. NORMAL (the default) never
    # corrupts the database in WAL mode, but a power cut or OS crash may lose the last
    # transactions (an import redoes them; a vote or a subscription is gone); FULL syncs the
    # WAL at every commit, which costs a disk flush per transaction (docs/deploy.md).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint every ~40 MB of WAL rather than 4 MB: imports rewrite the same keyword-index
    # pages in consecutive batches, and each checkpoint copies them again (~10% faster).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def create_db_engine(url: str, *, synchronous: str = "normal") -> Engine:
    """An engine for ``url`` (sqlite:///path or postgresql+psycopg://...); ``synchronous``:
    SQLite's ``normal`` or ``full``.

    Raises StorageError for an unsupported or malformed URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {url!r}: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if sqlite3.sqlite_version_info < _SQLITE_MIN:
            raise StorageError(
                f"SQLite {sqlite3.sqlite_version} is too old: paperroute needs 3.35 or newer "
                "(INSERT ... RETURNING); use a newer Python build or PostgreSQL"
            )
        database = parsed.database
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(f"cannot create database {database!r}: {parent} does not exist")
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_settings(synchronous))
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise StorageError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def shown_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid database URL)"


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the latest). Safe to call on every start."""
    config = _alembic_config()
    try:
        if revision == "head" and current_revision(engine) == head_revision():
            return
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot migrate the database: {exc.__class__.__name__}: {exc}") from exc
