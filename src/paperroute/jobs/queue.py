"""Which Huey queue a hub's jobs go through (docs/jobs.md).

- ``redis_url`` set: ``RedisHuey`` (workers on any machine that reaches Redis);
- a SQLite database: ``SqliteHuey`` in a file beside it, ``<database>.jobs.sqlite3``
  (nothing more to install or start; the web process's embedded worker and any
  ``paperroute worker`` on the same machine share it);
- PostgreSQL without Redis: Huey's ``PostgresHuey``, whose tables (``paperroute_queue_*``)
  live in the hub's own database, so workers on other machines need nothing more either.

Redis is reached on first use; the SQL storages create their tables when made.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..config import Config
from ..errors import ConfigError

QUEUE_NAME = "paperroute"
TABLE_PREFIX = "paperroute_queue"


def queue_file(database_url: str) -> Path | None:
    """The SQLite queue file beside a SQLite database; None for PostgreSQL. Raises
    ConfigError for an in-memory database (no worker could share its queue)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError("database_url is not a database URL") from None
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise ConfigError("an in-memory database has no place for the job queue: use a SQLite file")
    database = Path(url.database).expanduser()
    return database.with_name(database.name + ".jobs.sqlite3")


def describe(config: Config) -> str:
    """Where the queue is, for messages (no password)."""
    if config.redis_url:
        try:
            return f"Redis at {make_url(config.redis_url).render_as_string(hide_password=True)}"
        except ArgumentError:
            return "Redis (an invalid redis_url)"
    found = queue_file(config.database_url)
    if found is None:
        return f"PostgreSQL tables {TABLE_PREFIX}_*"
    return f"SQLite file {found}"


def make_queue(config: Config) -> Huey:
    """The Huey instance of ``config`` (see the module docstring). Raises ConfigError."""
    if config.redis_url:
        if not config.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("redis_url must start with redis://, rediss:// or unix://")
        return RedisHuey(QUEUE_NAME, url=config.redis_url, utc=True)
    found = queue_file(config.database_url)
    if found is not None:
        # Huey's own SQLite settings; WAL like the database, so that readers never wait.
        return SqliteHuey(QUEUE_NAME, filename=str(found), utc=True, timeout=30)
    url = make_url(config.database_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    return PostgresHuey(QUEUE_NAME, dsn=dsn, table_prefix=TABLE_PREFIX, utc=True)
