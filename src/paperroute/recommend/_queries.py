"""The recommendation part's reads: papers by id and by identifier, candidates by date, a
reader's upvotes and saved papers, papers of followed authors and categories. Read-only:
the part stores nothing (the signals are stored by the features that own them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..ids import fold_name
from ..store.schema import authors, paper_authors, paper_categories, papers
from ..store.schema_community import collection_papers, collections, hidden_papers, users, votes
from ..store.types import as_date

_IN_CHUNK = 900  # SQLite's bound-parameter limit, with room to spare


@dataclass(frozen=True, slots=True)
class PaperRow:
    pk: int
    id: str
    title: str
    day: dt.date | None  # announced, else submitted
    authors: str
    categories: str


def _chunks(values: Sequence[object]) -> Iterable[list[object]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


_COLUMNS = (
    papers.c.pk,
    papers.c.id,
    papers.c.title,
    papers.c.announced_on,
    papers.c.submitted_at,
    papers.c.authors_text,
    papers.c.categories,
)


def _row(row: Any) -> PaperRow:
    pk, id_, title, announced, submitted, authors_text, categories = row
    day = as_date(announced) if announced is not None else None
    if day is None and submitted is not None:
        day = as_date(submitted)
    return PaperRow(int(pk), str(id_), str(title), day, str(authors_text), str(categories))


def rows_by_id(connection: Connection, ids: Sequence[str]) -> dict[str, PaperRow]:
    found: dict[str, PaperRow] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in connection.execute(select(*_COLUMNS).where(papers.c.id.in_(chunk))):
            paper = _row(row)
            found[paper.id] = paper
    return found


def rows_by_pk(connection: Connection, pks: Sequence[int]) -> dict[int, PaperRow]:
    found: dict[int, PaperRow] = {}
    for chunk in _chunks(sorted(set(pks))):
        for row in connection.execute(select(*_COLUMNS).where(papers.c.pk.in_(chunk))):
            paper = _row(row)
            found[paper.pk] = paper
    return found


def hidden(connection: Connection, pks: Sequence[int]) -> set[int]:
    if len(pks) > 200:  # the hidden papers are few: reading them all beats a long IN list
        every = select(hidden_papers.c.paper_pk)
        return {int(pk) for pk in connection.execute(every).scalars()} & set(pks)
    out: set[int] = set()
    for chunk in _chunks(sorted(set(pks))):
        statement = select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk.in_(chunk))
        out.update(int(pk) for pk in connection.execute(statement).scalars())
    return out


def days_since(
    connection: Connection, modified: dt.datetime | None
) -> list[tuple[int, dt.date | None, dt.datetime]]:
    """(pk, day, modified_at) of every paper modified at or after ``modified`` (all papers
    when None): the day is announced_on, else the submission day. ``modified_at`` is
    indexed, so after the first call this reads only what changed."""
    statement = select(
        papers.c.pk, papers.c.announced_on, papers.c.submitted_at, papers.c.modified_at
    )
    if modified is not None:
        statement = statement.where(papers.c.modified_at >= modified)
    out: list[tuple[int, dt.date | None, dt.datetime]] = []
    for pk, announced, submitted, changed in connection.execute(statement):
        day = as_date(announced) if announced is not None else None
        if day is None and submitted is not None:
            day = as_date(submitted)
        out.append((int(pk), day, changed))
    return out


def pks_by_arxiv(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        statement = select(papers.c.arxiv_id, papers.c.id).where(papers.c.arxiv_id.in_(chunk))
        found.update({str(a): str(i) for a, i in connection.execute(statement)})
    return found


def ids_by_doi(connection: Connection, dois: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(dois))):
        statement = select(papers.c.doi, papers.c.id).where(papers.c.doi.in_(chunk))
        found.update({str(d): str(i) for d, i in connection.execute(statement)})
    return found


def ids_by_title_hash(connection: Connection, hashes: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(hashes))):
        statement = select(papers.c.title_hash, papers.c.id).where(papers.c.title_hash.in_(chunk))
        for value, id_ in connection.execute(statement):
            found.setdefault(int(value), str(id_))
    return found


def pks_by_authors(
    connection: Connection, names: Sequence[str], since: dt.date | None, limit: int
) -> dict[int, str]:
    """Papers (pk -> the followed name as written) by these authors, newest first."""
    keys = {fold_name(name): name for name in names}
    if not keys:
        return {}
    statement = (
        select(paper_authors.c.paper_pk, authors.c.name_key)
        .join(authors, authors.c.pk == paper_authors.c.author_pk)
        .join(papers, papers.c.pk == paper_authors.c.paper_pk)
        .where(authors.c.name_key.in_(list(keys)))
        .order_by(papers.c.pk.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(papers.c.announced_on >= since)
    return {int(pk): keys[str(key)] for pk, key in connection.execute(statement)}


def pks_by_categories(
    connection: Connection, categories: Sequence[str], since: dt.date | None, limit: int
) -> dict[int, str]:
    """Papers (pk -> the followed category) in these categories, newest first."""
    if not categories:
        return {}
    statement = (
        select(paper_categories.c.paper_pk, paper_categories.c.category)
        .join(papers, papers.c.pk == paper_categories.c.paper_pk)
        .where(paper_categories.c.category.in_(list(categories)))
        .order_by(papers.c.pk.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(papers.c.announced_on >= since)
    found: dict[int, str] = {}
    for pk, category in connection.execute(statement):
        found.setdefault(int(pk), str(category))
    return found


def account_by_email(connection: Connection, email: str) -> int | None:
    pk = connection.scalar(select(users.c.pk).where(users.c.email == email.strip().lower()))
    return None if pk is None else int(pk)


def reader_signals(connection: Connection, account: int) -> list[tuple[str, str, dt.datetime]]:
    """(kind, paper id, when) of the reader's upvotes and saved papers."""
    upvoted = (
        select(papers.c.id, votes.c.created_at)
        .join(papers, papers.c.pk == votes.c.paper_pk)
        .where(votes.c.user_pk == account)
    )
    saved = (
        select(papers.c.id, collection_papers.c.added_at)
        .join(papers, papers.c.pk == collection_papers.c.paper_pk)
        .join(collections, collections.c.pk == collection_papers.c.collection_pk)
        .where(collections.c.owner_pk == account)
    )
    found = [("upvote", str(i), when) for i, when in connection.execute(upvoted)]
    found += [("saved", str(i), when) for i, when in connection.execute(saved)]
    return found


def follow_keys(
    connection: Connection, pks: Sequence[int]
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Of each paper: its authors' folded names and its categories (what follows match)."""
    names: dict[int, set[str]] = {}
    categories: dict[int, set[str]] = {}
    for chunk in _chunks(sorted(set(pks))):
        statement = (
            select(paper_authors.c.paper_pk, authors.c.name_key)
            .join(authors, authors.c.pk == paper_authors.c.author_pk)
            .where(paper_authors.c.paper_pk.in_(chunk))
        )
        for pk, key in connection.execute(statement):
            names.setdefault(int(pk), set()).add(str(key))
        statement = select(paper_categories.c.paper_pk, paper_categories.c.category).where(
            paper_categories.c.paper_pk.in_(chunk)
        )
        for pk, category in connection.execute(statement):
            categories.setdefault(int(pk), set()).add(str(category))
    return names, categories
