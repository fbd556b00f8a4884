"""Read-only queries over the paper store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ..ids import try_arxiv_id, try_doi
from ..model import Paper, Provenance
from .rows import load_states
from .schema import authors, daily_entries, paper_categories, papers, provenance
from .types import as_date

# Paper's fields that PaperState holds too; daily entries and provenance are read apart.
_MERGED_FIELDS = tuple(
    f.name for f in dataclasses.fields(Paper) if f.name not in {"daily", "provenance"}
)


def find_paper_pk(connection: Connection, ref: str) -> int | None:
    """The paper named by ``ref``: its id, an arXiv id (any version, URL form), a DOI."""
    text = ref.strip()
    if "\x00" in text or len(text) > 1000 or not text.isprintable():
        # No stored id holds a NUL or a control character (PostgreSQL refuses NUL outright).
        return None
    candidates = [papers.c.id == text]
    parsed = try_arxiv_id(text)
    if parsed is not None:
        candidates.append(papers.c.id == parsed.id)
    doi = try_doi(text.removeprefix("doi:"))
    if doi is not None:
        candidates.append(papers.c.doi == doi)
    for condition in candidates:
        pk = connection.scalar(select(papers.c.pk).where(condition).limit(1))
        if pk is not None:
            return int(pk)
    return None


def load_paper(connection: Connection, pk: int) -> Paper:
    state = load_states(connection, [pk])[pk]
    daily = tuple(sorted(state.daily.values(), key=lambda e: (e.day, e.source)))
    rows = connection.execute(
        select(provenance).where(provenance.c.paper_pk == pk).order_by(provenance.c.first_seen_at)
    )
    prov = tuple(Provenance(r.source, r.source_key, r.fetched_at, r.record_hash) for r in rows)
    merged = {name: getattr(state, name) for name in _MERGED_FIELDS}
    return Paper(**merged, daily=daily, provenance=prov)


@dataclass(frozen=True, slots=True)
class Stats:
    papers: int
    authors: int
    with_code: int
    with_arxiv_id: int
    daily_entries: dict[str, int]
    first_day: dt.date | None
    last_day: dt.date | None
    by_source: dict[str, int]
    top_categories: list[tuple[str, int]]


def stats(connection: Connection) -> Stats:
    count = func.count()
    day_counts = connection.execute(
        select(daily_entries.c.source, count).group_by(daily_entries.c.source)
    )
    first, last = connection.execute(
        select(func.min(daily_entries.c.day), func.max(daily_entries.c.day))
    ).one()
    sources = connection.execute(select(provenance.c.source, count).group_by(provenance.c.source))
    top = connection.execute(
        select(paper_categories.c.category, count)
        .where(paper_categories.c.position == 0)
        .group_by(paper_categories.c.category)
        .order_by(count.desc(), paper_categories.c.category)
        .limit(10)
    )
    return Stats(
        papers=connection.scalar(select(count).select_from(papers)) or 0,
        authors=connection.scalar(select(count).select_from(authors)) or 0,
        with_code=connection.scalar(select(count).where(papers.c.code_url.is_not(None))) or 0,
        with_arxiv_id=connection.scalar(select(count).where(papers.c.arxiv_id.is_not(None))) or 0,
        daily_entries={row[0]: row[1] for row in day_counts},
        first_day=as_date(first),
        last_day=as_date(last),
        by_source={row[0]: row[1] for row in sources},
        top_categories=[(row[0], row[1]) for row in top],
    )


def papers_by_source(connection: Connection) -> dict[str, int]:
    """Papers per source that supplied them (a paper several sources named counts in each)."""
    rows = connection.execute(
        select(provenance.c.source, func.count()).group_by(provenance.c.source)
    )
    return {str(source): int(count) for source, count in rows}
