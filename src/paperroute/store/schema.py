"""The current schema, as SQLAlchemy Core tables for queries.

Migrations under ``migrations/versions`` create and change the real tables; this module
describes their latest state and must agree with them (tests/integration/test_migrations.py
compares the two on both databases).

Papers have an integer surrogate key ``pk`` that every other table references, so that the
public ``id`` can change when a paper first known by DOI or content hash gains an arXiv id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .types import UTCDateTime

metadata = MetaData()

papers = Table(
    "papers",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(320), nullable=False, unique=True),
    Column("arxiv_id", String(40)),  # equal to id when set; looked up through id
    Column("doi", String(300), index=True),
    Column("title_hash", BigInteger, nullable=False, index=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    # Denormalised from paper_authors / paper_categories for display and the keyword index.
    Column("authors_text", Text, nullable=False),
    Column("categories", Text, nullable=False),
    Column("primary_category", String(40), index=True),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("license", Text),
    Column("submitted_at", UTCDateTime()),
    Column("updated_at", UTCDateTime()),
    Column("announced_on", Date),
    Column("abs_url", Text),
    Column("pdf_url", Text),
    Column("code_url", Text),
    Column("code_stars", Integer),
    Column("project_url", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    # Indexed (migration 0013): its maximum stamps trending's precomputed rankings.
    Column("modified_at", UTCDateTime(), nullable=False, index=True),
)

authors = Table(
    "authors",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    # Case-folded, whitespace-collapsed name: one row per spelling up to case and spacing.
    Column("name_key", String(300), nullable=False, unique=True),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("author_pk", Integer, ForeignKey("authors.pk"), nullable=False),
    PrimaryKeyConstraint("paper_pk", "position"),
    Index("ix_paper_authors_author", "author_pk"),
    sqlite_with_rowid=False,
)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("category", String(40), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("paper_pk", "category"),
    Index("ix_paper_categories_category", "category", "paper_pk"),
    sqlite_with_rowid=False,
)

daily_entries = Table(
    "daily_entries",
    metadata,
    Column("day", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("submitter", Text),
    Column("upvotes", Integer),
    Column("num_comments", Integer),
    Column("submitted_at", UTCDateTime()),
    Column("ai_keywords", Text),  # JSON list
    Column("ai_summary", Text),
    PrimaryKeyConstraint("day", "source", "paper_pk"),
    Index("ix_daily_entries_paper", "paper_pk"),
    sqlite_with_rowid=False,
)

provenance = Table(
    "provenance",
    metadata,
    Column("paper_pk", Integer, ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("source_key", Text, nullable=False),
    Column("record_hash", String(64)),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("paper_pk", "source"),
    sqlite_with_rowid=False,
)

harvest_state = Table(
    "harvest_state",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("value", Text, nullable=False),  # JSON object
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The other domains' tables register themselves on the same metadata (one module each, next to
# their migration), so that migrations and schema comparisons see every table.
from . import (  # noqa: E402, F401
    schema_community,
    schema_digests,
    schema_jobs,
    schema_mail,
    schema_signals,
    schema_upkeep,
    schema_vectors,
)
