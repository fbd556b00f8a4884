"""Backups of a SQLite database while it is in use, restores that check what they put back,
and the ``pg_dump`` / ``pg_restore`` commands for PostgreSQL.

A SQLite backup is SQLite's online backup API in one step (``Connection.backup`` with
``pages=-1``): it copies every page inside one read transaction, so the copy is the database
as it stood when that transaction began, while other connections go on writing (WAL mode:
readers and the writer do not block each other). The copy is written beside the target and
renamed into place only once its ``integrity_check`` says ``ok``: a failed backup leaves no
half file under the name. The vector index folder is copied beside it
(``<backup>.index``); it is derived data that the hub brings in step with the database's
vectors on its next refresh, copied so that a restored hub starts without rebuilding it.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import InvalidInput, StorageError
from .engine import _alembic_config, head_revision


@dataclass(frozen=True, slots=True)
class Backup:
    """What ``backup`` did: the file it wrote (SQLite), or the command to run (PostgreSQL)."""

    path: Path | None = None
    revision: str | None = None
    papers: int = 0
    index: Path | None = None  # the vector index folder copied beside it
    command: str | None = None  # PostgreSQL: the pg_dump to run, without the password


@dataclass(frozen=True, slots=True)
class Restore:
    """What ``restore`` did (SQLite), or the command to run (PostgreSQL)."""

    path: Path | None = None
    revision: str | None = None
    papers: int = 0
    index: Path | None = None
    migrate_needed: bool = False  # the backup's schema is older: the next open migrates it
    command: str | None = None


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL; None for PostgreSQL. Raises StorageError for an
    in-memory database or an unsupported URL."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise StorageError("backup and restore need a SQLite file or a PostgreSQL database")
    if parsed.database == ":memory:":
        raise StorageError("an in-memory database has nothing to back up")
    return Path(parsed.database).expanduser()


def backup_sqlite(database: Path, target: Path, index: Path | None) -> Backup:
    """Copy the live database ``database`` (and its vector index folder ``index``) to
    ``target``. Refuses an existing target; raises InvalidInput or StorageError."""
    if not database.is_file():
        raise InvalidInput(f"there is no database at {database}")
    target = target.expanduser()
    index_copy = target.with_name(target.name + ".index")
    for path in (target, index_copy):
        if path.exists():
            raise InvalidInput(f"{path} exists: a backup never overwrites; choose a new name")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a folder")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed
    try:
        with _open(database) as source, _open(partial) as copy:
            source.execute("PRAGMA busy_timeout=10000")
            source.backup(copy)  # one step: one read transaction, a consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            revision, papers = _verify(copy, partial)
        partial.replace(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"the backup failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    copied = None
    if index is not None and index.is_dir():
        shutil.copytree(index, index_copy)
        copied = index_copy
    return Backup(path=target, revision=revision, papers=papers, index=copied)


def restore_sqlite(source: Path, database: Path, index: Path | None, *, force: bool) -> Restore:
    """Put the backup ``source`` (and ``<source>.index``) in place of ``database``. Checks
    the backup first (``integrity_check``, a schema revision this code knows); refuses to
    replace a database that holds data unless ``force``."""
    source = source.expanduser()
    if not source.is_file():
        raise InvalidInput(f"there is no backup at {source}")
    try:
        with _open(source, read_only=True) as backup:
            revision, papers = _verify(backup, source)
    except sqlite3.Error as exc:
        raise InvalidInput(f"{source} is not a readable SQLite database: {exc}") from exc
    _check_known(revision, source)
    if database.exists() and database.stat().st_size > 0 and not force:
        raise InvalidInput(
            f"{database} already holds a database: restore into a new location, or pass "
            "--force to replace it (stop the hub first)"
        )
    if not database.parent.is_dir():
        raise InvalidInput(f"{database.parent} is not a folder")
    try:
        # Through SQLite, not a file copy: a replaced database in WAL mode must not keep
        # its old -wal file's pages.
        with _open(source, read_only=True) as backup, _open(database) as live:
            live.execute("PRAGMA busy_timeout=10000")
            backup.backup(live)
            restored, papers = _verify(live, database)
    except sqlite3.Error as exc:
        raise StorageError(f"the restore failed: {exc}") from exc
    copied = None
    source_index = source.with_name(source.name + ".index")
    if index is not None:
        shutil.rmtree(index, ignore_errors=True)  # it described the replaced database
        if source_index.is_dir():
            shutil.copytree(source_index, index)
            copied = index
    return Restore(
        path=database,
        revision=restored,
        papers=papers,
        index=copied,
        migrate_needed=restored != head_revision(),
    )


def pg_dump_command(url: str, target: Path) -> str:
    """The ``pg_dump`` that backs up the PostgreSQL database of ``url``: custom format (one
    file, restorable in parallel), the password left out (``PGPASSWORD`` or ``~/.pgpass``)."""
    if target.exists():
        raise InvalidInput(f"{target} exists: a backup never overwrites; choose a new name")
    return shlex.join(
        ["pg_dump", "--format=custom", f"--file={target}", _libpq_without_password(url)]
    )


def pg_restore_command(url: str, source: Path) -> str:
    """The ``pg_restore`` into the (new, empty) PostgreSQL database of ``url``."""
    if not source.is_file():
        raise InvalidInput(f"there is no backup at {source}")
    dbname = f"--dbname={_libpq_without_password(url)}"
    return shlex.join(["pg_restore", "--no-owner", "--exit-on-error", dbname, str(source)])


def _libpq_without_password(url: str) -> str:
    parsed = _parse(url)
    bare = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StorageError("the database URL is not valid") from None


@contextlib.contextmanager
def _open(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    target = f"file:{quote(path.as_posix())}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(target, uri=read_only, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _verify(connection: sqlite3.Connection, where: Path) -> tuple[str, int]:
    """(schema revision, papers) of a database whose ``integrity_check`` passes."""
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        raise StorageError(f"{where} fails SQLite's integrity check: {'; '.join(rows[:5])}")
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        papers = connection.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.Error:
        raise InvalidInput(f"{where} is not a paperroute database") from None
    if revision is None:
        raise InvalidInput(f"{where} has no schema revision: not a paperroute database")
    return str(revision[0]), int(papers)


def _check_known(revision: str, where: Path) -> None:
    scripts = ScriptDirectory.from_config(_alembic_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise InvalidInput(
            f"{where} is at schema revision {revision}, which this paperroute does not know "
            f"(it knows up to {head_revision()}): restore it with the version that made it"
        )
