"""The SQL of a reader's private signals (store/schema_signals.py): feedback, follows, the
imported library and the For-you settings. Every query names its reader: no function here
reads or writes another reader's rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..store.schema import papers
from ..store.schema_community import hidden_papers, users
from ..store.schema_signals import (
    library_entries,
    reader_feedback,
    reader_follows,
    reader_settings,
)
from ..store.types import as_date
from .signals_model import FeedbackItem, FollowItem, LibraryItem, StoredEntry

DEFAULT_DAYS = 7


def _dialect(connection: Connection) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if connection.dialect.name == "postgresql" else sqlite.Insert


def set_feedback(
    connection: Connection, user_pk: int, paper_pk: int, kind: str | None, now: datetime
) -> None:
    """Give (``kind`` "more" or "less", replacing the other) or take back (None) feedback."""
    connection.execute(
        delete(reader_feedback).where(
            reader_feedback.c.user_pk == user_pk, reader_feedback.c.paper_pk == paper_pk
        )
    )
    if kind is not None:
        connection.execute(
            insert(reader_feedback).values(
                user_pk=user_pk, paper_pk=paper_pk, kind=kind, created_at=now
            )
        )


def is_hidden(connection: Connection, paper_pk: int) -> bool:
    found = connection.scalar(
        select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == paper_pk)
    )
    return found is not None


def feedback(connection: Connection, user_pk: int) -> list[FeedbackItem]:
    rows = connection.execute(
        select(
            reader_feedback.c.kind,
            reader_feedback.c.created_at,
            papers.c.id,
            papers.c.title,
            papers.c.pk,
            hidden_papers.c.paper_pk.label("hidden"),
        )
        .join(papers, papers.c.pk == reader_feedback.c.paper_pk)
        .outerjoin(hidden_papers, hidden_papers.c.paper_pk == papers.c.pk)
        .where(reader_feedback.c.user_pk == user_pk)
        .order_by(reader_feedback.c.created_at.desc(), papers.c.pk)
    )
    # A paper the moderators hid since keeps its title to itself (its id is the reader's).
    return [
        FeedbackItem(r.pk, r.id, "" if r.hidden else r.title, r.kind, r.created_at) for r in rows
    ]


def feedback_kinds(connection: Connection, user_pk: int) -> dict[int, str]:
    rows = connection.execute(
        select(reader_feedback.c.paper_pk, reader_feedback.c.kind).where(
            reader_feedback.c.user_pk == user_pk
        )
    )
    return {int(r.paper_pk): str(r.kind) for r in rows}


def set_follow(
    connection: Connection, user_pk: int, kind: str, value: str, on: bool, now: datetime
) -> None:
    if on:
        statement = _dialect(connection)(reader_follows).values(
            user_pk=user_pk, kind=kind, value=value, created_at=now
        )
        connection.execute(
            statement.on_conflict_do_nothing(index_elements=["user_pk", "kind", "value"])
        )
    else:
        connection.execute(
            delete(reader_follows).where(
                reader_follows.c.user_pk == user_pk,
                reader_follows.c.kind == kind,
                reader_follows.c.value == value,
            )
        )


def lock_reader(connection: Connection, user_pk: int) -> None:
    """Hold the reader's row until the transaction ends (a no-op update: a row lock on
    PostgreSQL, the write lock on SQLite), so that two requests of one reader checking a cap
    and then writing take turns."""
    connection.execute(update(users).where(users.c.pk == user_pk).values(pk=users.c.pk))


def follow_count(connection: Connection, user_pk: int, kind: str, value: str) -> int:
    """How many follows the reader has, besides (``kind``, ``value``) itself."""
    found = connection.scalar(
        select(func.count())
        .select_from(reader_follows)
        .where(
            reader_follows.c.user_pk == user_pk,
            (reader_follows.c.kind != kind) | (reader_follows.c.value != value),
        )
    )
    return int(found or 0)


def follows(connection: Connection, user_pk: int) -> list[FollowItem]:
    rows = connection.execute(
        select(reader_follows.c.kind, reader_follows.c.value, reader_follows.c.created_at)
        .where(reader_follows.c.user_pk == user_pk)
        .order_by(reader_follows.c.kind, reader_follows.c.value)
    )
    return [FollowItem(r.kind, r.value, r.created_at) for r in rows]


def replace_library(
    connection: Connection,
    user_pk: int,
    entries: Sequence[StoredEntry],
    name: str,
    now: datetime,
) -> None:
    """The reader's library becomes ``entries`` (in the caller's transaction: all or nothing)."""
    connection.execute(delete(library_entries).where(library_entries.c.user_pk == user_pk))
    rows = [
        {
            "user_pk": user_pk,
            "position": position,
            "paper_pk": entry.paper_pk,
            "ref": entry.ref,
            "title": entry.title,
            "authors": json.dumps(list(entry.authors)),
            "year": entry.year,
            "abstract": entry.abstract,
            "added_at": now,
        }
        for position, entry in enumerate(entries)
    ]
    for start in range(0, len(rows), 1000):
        connection.execute(insert(library_entries), rows[start : start + 1000])
    _settings(connection, user_pk)
    connection.execute(
        update(reader_settings)
        .where(reader_settings.c.user_pk == user_pk)
        .values(library_name=name if entries else None, library_at=now if entries else None)
    )


def library(connection: Connection, user_pk: int, *, limit: int | None = None) -> list[LibraryItem]:
    statement = (
        select(
            library_entries.c.pk,
            library_entries.c.title,
            library_entries.c.authors,
            library_entries.c.year,
            library_entries.c.abstract,
            library_entries.c.ref,
            library_entries.c.added_at,
            papers.c.id.label("paper_id"),
            papers.c.title.label("paper_title"),
            hidden_papers.c.paper_pk.label("hidden"),
        )
        .outerjoin(papers, papers.c.pk == library_entries.c.paper_pk)
        .outerjoin(hidden_papers, hidden_papers.c.paper_pk == library_entries.c.paper_pk)
        .where(library_entries.c.user_pk == user_pk)
        .order_by(library_entries.c.position)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [
        LibraryItem(
            pk=r.pk,
            # The stored paper's title (an id list's entry holds only the id), unless the
            # moderators hid it: then the file's own text.
            title=r.paper_title if r.paper_title and not r.hidden else r.title,
            authors=tuple(json.loads(r.authors)),
            year=r.year,
            abstract=r.abstract,
            ref=r.ref,
            paper_id=r.paper_id,
            added_at=r.added_at,
        )
        for r in connection.execute(statement)
    ]


def unmatched_library(connection: Connection, user_pk: int) -> list[tuple[int, str | None, str]]:
    """(entry pk, ref, title) of the reader's entries that name no stored paper, in order."""
    rows = connection.execute(
        select(library_entries.c.pk, library_entries.c.ref, library_entries.c.title)
        .where(library_entries.c.user_pk == user_pk, library_entries.c.paper_pk.is_(None))
        .order_by(library_entries.c.position)
    )
    return [(int(r.pk), r.ref, str(r.title)) for r in rows]


def library_counts(connection: Connection, user_pk: int) -> tuple[int, int]:
    """(entries, entries that are papers of this hub) of the reader's library."""
    row = connection.execute(
        select(func.count(), func.count(library_entries.c.paper_pk)).where(
            library_entries.c.user_pk == user_pk
        )
    ).one()
    return int(row[0]), int(row[1])


def set_library_matches(connection: Connection, user_pk: int, matches: dict[int, int]) -> None:
    """Remember that entries (by pk) of the reader's library name these papers (by pk), so
    that they are matched once; only the reader's own entries not matched yet change."""
    for entry_pk, paper_pk in matches.items():
        connection.execute(
            update(library_entries)
            .where(
                library_entries.c.user_pk == user_pk,
                library_entries.c.pk == entry_pk,
                library_entries.c.paper_pk.is_(None),
            )
            .values(paper_pk=paper_pk)
        )


def delete_library_entry(connection: Connection, user_pk: int, pk: int) -> bool:
    done = connection.execute(
        delete(library_entries).where(
            library_entries.c.user_pk == user_pk, library_entries.c.pk == pk
        )
    )
    return bool(done.rowcount)


def _settings(connection: Connection, user_pk: int) -> None:
    statement = _dialect(connection)(reader_settings).values(
        user_pk=user_pk, for_you_days=DEFAULT_DAYS
    )
    connection.execute(statement.on_conflict_do_nothing(index_elements=["user_pk"]))


def days(connection: Connection, user_pk: int) -> int:
    found = connection.scalar(
        select(reader_settings.c.for_you_days).where(reader_settings.c.user_pk == user_pk)
    )
    return int(found) if found else DEFAULT_DAYS


def library_source(connection: Connection, user_pk: int) -> tuple[str | None, datetime | None]:
    row = connection.execute(
        select(reader_settings.c.library_name, reader_settings.c.library_at).where(
            reader_settings.c.user_pk == user_pk
        )
    ).first()
    return (row.library_name, row.library_at) if row else (None, None)


def set_days(connection: Connection, user_pk: int, value: int) -> None:
    _settings(connection, user_pk)
    connection.execute(
        update(reader_settings)
        .where(reader_settings.c.user_pk == user_pk)
        .values(for_you_days=value)
    )


def newest_day(connection: Connection) -> date | None:
    """The newest announcement day the hub holds."""
    found = connection.scalar(select(func.max(papers.c.announced_on)))
    return as_date(found) if found is not None else None
