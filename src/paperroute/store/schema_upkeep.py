"""Tables of the hub's upkeep (migration 0013, issue 11): what the periodic jobs keep.

- ``inferred_categories``: categories guessed from a paper's nearest categorised neighbours
  (MiniLM vectors), kept apart from the source's own ``paper_categories`` and shown as
  inferred; dropped when the paper gains categories of its own.
- ``enrich_state``: one row per paper ``paperroute enrich`` has tried to complete from the
  arXiv API: who holds it (a claim, so two runs never take the same paper), how often it
  failed and when it may be tried again.
- ``code_repos``: one row per GitHub repository linked from a paper: its stars, the ETag of
  the last answer (conditional requests), whether GitHub knows it, and a claim like above.
- ``trending_scores`` / ``trending_runs``: each window's ranking as ``precompute_trending``
  left it, with the stamp of the inputs it was computed from (read only while it matches).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .schema import metadata
from .types import UTCDateTime

TZ = UTCDateTime()

inferred_categories = Table(
    "inferred_categories",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("category", String(40), nullable=False),
    Column("position", Integer, nullable=False),
    Column("confidence", Float, nullable=False),  # the category's share of the weighted vote
    Column("model", String(200), nullable=False),
    Column("inferred_at", TZ, nullable=False),
    PrimaryKeyConstraint("paper_pk", "category"),
    Index("ix_inferred_categories_category", "category", "paper_pk"),
)

enrich_state = Table(
    "enrich_state",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),  # pending, done, failed, unknown
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("tried_at", TZ),
    Column("retry_at", TZ),
    Column("claimed_by", String(40)),
    Column("claimed_until", TZ),
)

code_repos = Table(
    "code_repos",
    metadata,
    Column("repo", String(200), primary_key=True),  # "owner/name", case-folded
    Column("stars", Integer),
    Column("etag", Text),
    Column("status", String(16), nullable=False),  # new, ok, missing, failed
    Column("last_error", Text),
    Column("checked_at", TZ),
    Column("claimed_by", String(40)),
    Column("claimed_until", TZ),
    Index("ix_code_repos_checked", "checked_at"),
)

trending_scores = Table(
    "trending_scores",
    metadata,
    Column("window", String(8), nullable=False),
    Column("position", Integer, nullable=False),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("paper_id", String(320), nullable=False),
    Column("hf_upvotes", Integer, nullable=False),
    Column("votes", Integer, nullable=False),
    Column("stars", Integer),
    Column("age_days", Float, nullable=False),
    Column("upvote_term", Float, nullable=False),
    Column("star_term", Float, nullable=False),
    Column("recency_term", Float, nullable=False),
    PrimaryKeyConstraint("window", "position"),
)

trending_runs = Table(
    "trending_runs",
    metadata,
    Column("window", String(8), primary_key=True),
    Column("stamp", Text, nullable=False),  # the inputs' stamp (reading/_precomputed.py)
    Column("computed_at", TZ, nullable=False),
)
