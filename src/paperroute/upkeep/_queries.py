"""The upkeep's SQL: which papers lack arXiv's metadata, claims on them, their enrichment
state, and inferred categories. Internal to ``upkeep``.

Every write transaction here starts with a write, never a read: on SQLite a transaction
that read first cannot wait for another writer (it fails at once), one that writes first
waits out the busy timeout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)

from ..store.bulk import bulk_insert
from ..store.merge import AUTHORITATIVE
from ..store.rows import chunks
from ..store.schema import daily_entries, paper_categories, papers, provenance
from ..store.schema_upkeep import enrich_state, inferred_categories
from .infer import Inferred

PENDING, DONE, FAILED, UNKNOWN = "pending", "done", "failed", "unknown"
MAX_RETRY = dt.timedelta(days=30)


def _lacks_arxiv_metadata() -> ColumnElement[bool]:
    from_arxiv = exists().where(
        provenance.c.paper_pk == papers.c.pk, provenance.c.source.in_(sorted(AUTHORITATIVE))
    )
    return and_(papers.c.arxiv_id.is_not(None), ~from_arxiv)


def unseeded(connection: Connection) -> list[int]:
    """Papers that lack arXiv's metadata and have no enrichment state yet."""
    known = exists().where(enrich_state.c.paper_pk == papers.c.pk)
    query = select(papers.c.pk).where(_lacks_arxiv_metadata(), ~known).order_by(papers.c.pk)
    return [int(pk) for pk in connection.execute(query).scalars()]


def seed(connection: Connection, pks: Sequence[int]) -> None:
    """Give these papers a pending state (those another run gave one keep theirs)."""
    for part in chunks(list(pks), 5000):
        bulk_insert(
            connection,
            enrich_state,
            ("paper_pk", "status", "attempts"),
            [(pk, PENDING, 0) for pk in part],
            conflict=("paper_pk",),
        )


def _eligible(now: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        enrich_state.c.status.in_([PENDING, FAILED, UNKNOWN]),
        or_(enrich_state.c.retry_at.is_(None), enrich_state.c.retry_at <= now),
        or_(enrich_state.c.claimed_until.is_(None), enrich_state.c.claimed_until < now),
    ]


def claim(
    connection: Connection, token: str, now: dt.datetime, until: dt.datetime, size: int
) -> dict[int, str]:
    """Claim up to ``size`` eligible papers for ``token`` until ``until``: {pk: arXiv id}.
    The claim is one UPDATE whose WHERE is checked again on each row it locks, so two
    runs at once claim different papers."""
    wanted = (
        select(enrich_state.c.paper_pk)
        .where(*_eligible(now))
        .order_by(enrich_state.c.paper_pk)
        .limit(size)
    )
    connection.execute(
        update(enrich_state)
        .where(enrich_state.c.paper_pk.in_(wanted), *_eligible(now))
        .values(claimed_by=token, claimed_until=until)
    )
    rows = connection.execute(
        select(papers.c.pk, papers.c.arxiv_id)
        .join(enrich_state, enrich_state.c.paper_pk == papers.c.pk)
        .where(enrich_state.c.claimed_by == token, enrich_state.c.claimed_until == until)
        .order_by(papers.c.pk)
    )
    return {int(row.pk): str(row.arxiv_id) for row in rows}


def finish(
    connection: Connection,
    token: str,
    now: dt.datetime,
    outcomes: Mapping[int, tuple[str, str | None]],
    retry_hours: float,
) -> None:
    """Record each claimed paper's outcome ({pk: (status, error)}) and release its claim."""
    for pk, (status, error) in outcomes.items():
        values: dict[str, object] = {
            "status": status,
            "last_error": (error or "")[:2000] or None,
            "tried_at": now,
            "claimed_by": None,
            "claimed_until": None,
            "attempts": enrich_state.c.attempts + 1,
        }
        if status == DONE:
            values["retry_at"] = None
        connection.execute(
            update(enrich_state)
            .where(enrich_state.c.paper_pk == pk, enrich_state.c.claimed_by == token)
            .values(values)
        )
        if status != DONE:
            attempts = connection.scalar(
                select(enrich_state.c.attempts).where(enrich_state.c.paper_pk == pk)
            )
            wait = dt.timedelta(hours=retry_hours) * 2 ** max(0, (attempts or 1) - 1)
            connection.execute(
                update(enrich_state)
                .where(enrich_state.c.paper_pk == pk)
                .values(retry_at=now + min(wait, MAX_RETRY))
            )


def release(connection: Connection, token: str) -> None:
    """Let go of every claim of ``token`` without counting an attempt (an interrupted run)."""
    connection.execute(
        update(enrich_state)
        .where(enrich_state.c.claimed_by == token)
        .values(claimed_by=None, claimed_until=None)
    )


def counts(connection: Connection) -> dict[str, int]:
    """Papers per enrichment status, and those still lacking arXiv's metadata."""
    found = {
        str(status): int(n)
        for status, n in connection.execute(
            select(enrich_state.c.status, func.count()).group_by(enrich_state.c.status)
        )
    }
    found["lacking"] = int(
        connection.scalar(select(func.count()).select_from(papers).where(_lacks_arxiv_metadata()))
        or 0
    )
    return found


# -- inferred categories --------------------------------------------------------------------


def categorised(connection: Connection) -> dict[int, tuple[str, ...]]:
    """Every paper's own categories, primary first ({pk: categories}); none for papers
    without any."""
    found: dict[int, list[str]] = {}
    query = select(paper_categories.c.paper_pk, paper_categories.c.category).order_by(
        paper_categories.c.paper_pk, paper_categories.c.position
    )
    for pk, category in connection.execute(query):
        found.setdefault(int(pk), []).append(str(category))
    return {pk: tuple(cats) for pk, cats in found.items()}


def store_inferred(
    connection: Connection,
    inferred: Mapping[int, Inferred],
    model: str,
    now: dt.datetime,
) -> None:
    """Make the stored inferred categories of these papers exactly ``inferred`` (an empty
    tuple drops a paper's): upserts first, in key order, then deletes of what is no longer
    inferred, so two runs at once agree instead of colliding."""
    rows = sorted(
        (pk, category, position, confidence, model, now)
        for pk, found in inferred.items()
        for position, (category, confidence) in enumerate(found)
    )
    for part in chunks(rows, 500):
        bulk_insert(
            connection,
            inferred_categories,
            ("paper_pk", "category", "position", "confidence", "model", "inferred_at"),
            part,
            conflict=("paper_pk", "category"),
            update=("position", "confidence", "model", "inferred_at"),
        )
    keep = {(pk, c) for pk, found in inferred.items() for c, _ in found}
    for pks in chunks(sorted(inferred), 500):
        stored = connection.execute(
            select(inferred_categories.c.paper_pk, inferred_categories.c.category).where(
                inferred_categories.c.paper_pk.in_(pks)
            )
        ).all()
        stale = [(int(pk), str(c)) for pk, c in stored if (int(pk), str(c)) not in keep]
        if stale:
            connection.execute(
                delete(inferred_categories).where(
                    tuple_(inferred_categories.c.paper_pk, inferred_categories.c.category).in_(
                        stale
                    )
                )
            )


def drop_inferred_of_categorised(connection: Connection) -> int:
    """Drop the inferred categories of papers that now have categories of their own."""
    own = exists().where(paper_categories.c.paper_pk == inferred_categories.c.paper_pk)
    return connection.execute(delete(inferred_categories).where(own)).rowcount or 0


def inferred_count(connection: Connection) -> int:
    return int(
        connection.scalar(
            select(func.count()).select_from(
                select(inferred_categories.c.paper_pk).distinct().subquery()
            )
        )
        or 0
    )


def hf_listed(connection: Connection) -> set[int]:
    """Papers Hugging Face's daily papers listed."""
    query = select(daily_entries.c.paper_pk).where(daily_entries.c.source == "hf").distinct()
    return {int(pk) for pk in connection.execute(query).scalars()}


def ids_of(connection: Connection, pks: Sequence[int]) -> dict[int, str]:
    rows = connection.execute(select(papers.c.pk, papers.c.id).where(papers.c.pk.in_(list(pks))))
    return {int(pk): str(i) for pk, i in rows}
