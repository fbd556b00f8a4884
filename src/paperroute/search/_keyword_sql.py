"""What the SQLite and PostgreSQL keyword statements share (keyword.py, _pg_keyword.py): the
hit type and the columns it is read from, the filters' SQL conditions, and running a
statement into hits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

from ..store.merge import fold_name
from ..store.types import as_date
from .query import Query


@dataclass(frozen=True, slots=True)
class KeywordHit:
    id: str
    title: str
    authors: str
    categories: str
    announced_on: dt.date | None
    code_url: str | None
    score: float
    snippet: str
    pk: int = 0


# The papers' columns a hit is read from (``p``: the papers table).
COLUMNS = "p.pk, p.id, p.title, p.authors_text, p.categories, p.announced_on, p.code_url"


def _category_spellings(category: str) -> list[str]:
    """The category as typed and in arXiv's case (archive lower case; a two-letter subject
    class upper case: cs.LG, astro-ph.CO; longer ones lower case: physics.flu-dyn), so that
    the (category, paper) index answers ``cat:cs.lg``."""
    archive, _, subject = category.partition(".")
    canonical = archive.lower()
    if subject:
        canonical += "." + (subject.upper() if len(subject) == 2 else subject.lower())
    return [category] if canonical == category else [category, canonical]


def filters(query: Query, params: dict[str, Any], dialect: str, key: str = "p.pk") -> list[str]:
    """SQL conditions for the query's filters. Category and author filters test ``key`` (the
    paper's pk, or the FTS5 rowid) against a set drawn from their own indexes, so a search
    restricted by them need not read the papers table for every match."""
    clauses: list[str] = []
    if query.categories:
        params["categories"] = [s for c in query.categories for s in _category_spellings(c)]
        # A paper without categories of its own is in those inferred for it (issue 11).
        clauses.append(
            f"{key} IN (SELECT paper_pk FROM paper_categories WHERE category IN :categories "
            "UNION SELECT i.paper_pk FROM inferred_categories i WHERE i.category IN :categories "
            "AND NOT EXISTS (SELECT 1 FROM paper_categories o WHERE o.paper_pk = i.paper_pk))"
        )
    for index, author in enumerate(query.authors):
        folded = fold_name(author)
        params[f"author{index}"] = folded
        params[f"surname{index}"] = f"% {folded}"
        # A full name matches exactly; one word matches a surname too ("author:vaswani").
        match = f"a.name_key = :author{index}"
        if " " not in folded:
            match = f"({match} OR a.name_key LIKE :surname{index})"
        # Driven from the authors index: an author has few papers, the corpus many.
        clauses.append(
            f"{key} IN (SELECT pa.paper_pk FROM authors a JOIN paper_authors pa "
            f"ON pa.author_pk = a.pk WHERE {match})"
        )
    day = (
        "coalesce(p.announced_on, substr(p.submitted_at, 1, 10))"
        if dialect == "sqlite"
        else "coalesce(p.announced_on, CAST(p.submitted_at AS date))"
    )
    if query.after is not None:
        params["after"] = query.after.isoformat() if dialect == "sqlite" else query.after
        clauses.append(f"{day} >= :after")
    if query.before is not None:
        params["before"] = query.before.isoformat() if dialect == "sqlite" else query.before
        clauses.append(f"{day} < :before")
    if query.has_code:
        clauses.append("p.code_url IS NOT NULL")
    return clauses


def sql_statement(sql: str, params: dict[str, Any]) -> Any:
    """``sql`` as a statement, its ``:categories`` (when bound) expanded into a list."""
    compiled = text(sql)
    if "categories" in params:
        compiled = compiled.bindparams(bindparam("categories", expanding=True))
    return compiled


def run(connection: Connection, sql: str, params: dict[str, Any]) -> list[KeywordHit]:
    return to_hits(connection.execute(sql_statement(sql, params), params))


def to_hits(rows: Iterable[Any]) -> list[KeywordHit]:
    return [hit_of(row, float(row.score), row.snippet or "") for row in rows]


def hit_of(row: Any, score: float, snippet: str) -> KeywordHit:
    """A hit from a row of the hit columns (id, title, authors_text, ..., pk)."""
    return KeywordHit(
        id=row.id,
        title=row.title,
        authors=row.authors_text,
        categories=row.categories,
        announced_on=as_date(row.announced_on),
        code_url=row.code_url,
        score=score,
        snippet=snippet,
        pk=int(row.pk),
    )
