"""Reading papers back: rows to PaperState / Paper, shared by the writer and the queries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from ..model import DailyEntry, EntryKind
from .merge import PaperState
from .schema import authors, daily_entries, paper_authors, paper_categories, papers

T = TypeVar("T")
# Well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
CHUNK = 900


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def entry_from_row(row: Any) -> DailyEntry:
    kind: EntryKind = row.kind
    return DailyEntry(
        day=row.day,
        source=row.source,
        kind=kind,
        submitter=row.submitter,
        upvotes=row.upvotes,
        num_comments=row.num_comments,
        submitted_at=row.submitted_at,
        ai_keywords=tuple(json.loads(row.ai_keywords)) if row.ai_keywords else (),
        ai_summary=row.ai_summary,
    )


def load_states(connection: Connection, pks: Sequence[int]) -> dict[int, PaperState]:
    """The stored state of the papers with these primary keys."""
    states: dict[int, PaperState] = {}
    names: dict[int, list[tuple[int, str]]] = defaultdict(list)
    cats: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for part in chunks(pks):
        for row in connection.execute(select(papers).where(papers.c.pk.in_(part))):
            states[row.pk] = PaperState(
                pk=row.pk,
                id=row.id,
                title=row.title,
                title_hash=row.title_hash,
                abstract=row.abstract,
                arxiv_id=row.arxiv_id,
                version=row.version,
                doi=row.doi,
                submitted_at=row.submitted_at,
                updated_at=row.updated_at,
                announced_on=row.announced_on,
                comments=row.comments,
                journal_ref=row.journal_ref,
                license=row.license,
                abs_url=row.abs_url,
                pdf_url=row.pdf_url,
                code_url=row.code_url,
                code_stars=row.code_stars,
                project_url=row.project_url,
            )
        query = (
            select(paper_authors.c.paper_pk, paper_authors.c.position, authors.c.name)
            .join(authors, authors.c.pk == paper_authors.c.author_pk)
            .where(paper_authors.c.paper_pk.in_(part))
        )
        for row in connection.execute(query):
            names[row.paper_pk].append((row.position, row.name))
        query = select(paper_categories).where(paper_categories.c.paper_pk.in_(part))
        for row in connection.execute(query):
            cats[row.paper_pk].append((row.position, row.category))
        query = select(daily_entries).where(daily_entries.c.paper_pk.in_(part))
        for row in connection.execute(query):
            if row.paper_pk in states:
                states[row.paper_pk].daily[(row.day, row.source)] = entry_from_row(row)
    for pk, state in states.items():
        state.authors = tuple(name for _, name in sorted(names.get(pk, ())))
        state.categories = tuple(cat for _, cat in sorted(cats.get(pk, ())))
    return states
