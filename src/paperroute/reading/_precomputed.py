"""Trending's precomputed rankings (``Reading.precompute_trending``): each window's whole
ranking stored in ``trending_scores`` with the stamp of the inputs it was computed from.

The stamp is read with a handful of indexed lookups, never a scan of the ranking's inputs:
the newest listing day (trending's reference time), the newest ``papers.modified_at`` and the
number of papers (every import that changes a paper, its stars or its Hugging Face upvotes
touches ``modified_at``), the number and newest of the reader votes, the number and newest
of the hidden papers, and the weights. A stored ranking is read only while its stamp equals
the current one, so it is always the ranking computing it now would give. Internal to
``reading``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, delete, func, select

from ..store.bulk import bulk_insert
from ..store.schema import daily_entries, papers
from ..store.schema_community import hidden_papers, votes
from ..store.schema_upkeep import trending_runs, trending_scores
from .scoring import Terms, Weights

SCORE_PK = trending_scores.c.paper_pk  # what a view narrows

_SCORE_COLUMNS = (
    "window",
    "position",
    "paper_pk",
    "paper_id",
    "hf_upvotes",
    "votes",
    "stars",
    "age_days",
    "upvote_term",
    "star_term",
    "recency_term",
)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def stamp(connection: Connection, weights: Weights) -> str | None:
    """The stamp of trending's inputs now; None when no day has listings (the reference
    time is then the clock's, which no stored ranking can follow)."""
    newest = connection.scalar(select(func.max(daily_entries.c.day)))
    if newest is None:
        return None
    paper_row = connection.execute(select(func.max(papers.c.modified_at), func.count())).one()
    vote_row = connection.execute(select(func.max(votes.c.created_at), func.count())).one()
    hidden_row = connection.execute(select(func.max(hidden_papers.c.hidden_at), func.count())).one()
    parts = [
        _text(newest),
        *(_text(v) for v in (*paper_row, *vote_row, *hidden_row)),
        [
            weights.gravity,
            weights.upvote_weight,
            weights.star_weight,
            weights.recency_weight,
            weights.recency_half_life,
            weights.month_half_life,
        ],
    ]
    return json.dumps(parts)


def store(
    connection: Connection,
    window: str,
    ranked: Sequence[Terms],
    stamped: str,
    now: dt.datetime,
) -> None:
    """Replace ``window``'s stored ranking, in the caller's transaction. The run's row is
    written first: on PostgreSQL it holds a row lock until commit, so a second precompute of
    the same window waits and then replaces this one whole (never a half of each)."""
    updated = connection.execute(
        trending_runs.update()
        .where(trending_runs.c.window == window)
        .values(stamp=stamped, computed_at=now)
    )
    if updated.rowcount == 0:
        bulk_insert(
            connection,
            trending_runs,
            ("window", "stamp", "computed_at"),
            [(window, stamped, now)],
            conflict=("window",),
            update=("stamp", "computed_at"),
        )
    connection.execute(delete(trending_scores).where(trending_scores.c.window == window))
    bulk_insert(
        connection,
        trending_scores,
        _SCORE_COLUMNS,
        [
            (
                window,
                position,
                t.pk,
                t.id,
                t.hf_upvotes,
                t.votes,
                t.stars,
                t.age_days,
                t.upvote_term,
                t.star_term,
                t.recency_term,
            )
            for position, t in enumerate(ranked)
        ],
    )


def load(
    connection: Connection,
    window: str,
    stamped: str | None,
    narrowed: Sequence[ColumnElement[bool]],
) -> list[Terms] | None:
    """``window``'s stored ranking narrowed by ``narrowed`` (a view's conditions on
    ``trending_scores.c.paper_pk``), or None when none is stored for the stamp ``stamped``."""
    if stamped is None:
        return None
    run = connection.scalar(select(trending_runs.c.stamp).where(trending_runs.c.window == window))
    if run != stamped:
        return None
    query = (
        select(trending_scores)
        .where(trending_scores.c.window == window, *narrowed)
        .order_by(trending_scores.c.position)
    )
    return [
        Terms(
            pk=row.paper_pk,
            id=row.paper_id,
            upvotes=row.hf_upvotes + row.votes,
            hf_upvotes=row.hf_upvotes,
            votes=row.votes,
            stars=row.stars,
            age_days=row.age_days,
            upvote_term=row.upvote_term,
            star_term=row.star_term,
            recency_term=row.recency_term,
        )
        for row in connection.execute(query)
    ]
