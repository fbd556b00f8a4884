"""The paper store: papers, authors, categories, daily entries, provenance, harvest state,
and the keyword index (FTS5 on SQLite, a weighted tsvector with GIN on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(320), nullable=False, unique=True),
        # Equal to id whenever set (the canonical id of an arXiv paper is its arXiv id), so
        # lookups by arXiv id use the id index and this column needs none of its own.
        sa.Column("arxiv_id", sa.String(40)),
        sa.Column("doi", sa.String(300)),
        # 64-bit hash of the case- and punctuation-folded title: matches papers without ids.
        sa.Column("title_hash", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors_text", sa.Text, nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("primary_category", sa.String(40)),
        sa.Column("comments", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("submitted_at", TZ),
        sa.Column("updated_at", TZ),
        sa.Column("announced_on", sa.Date),
        sa.Column("abs_url", sa.Text),
        sa.Column("pdf_url", sa.Text),
        sa.Column("code_url", sa.Text),
        sa.Column("code_stars", sa.Integer),
        sa.Column("project_url", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("modified_at", TZ, nullable=False),
    )
    op.create_index("ix_papers_doi", "papers", ["doi"])
    op.create_index("ix_papers_title_hash", "papers", ["title_hash"])
    op.create_index("ix_papers_primary_category", "papers", ["primary_category"])

    op.create_table(
        "authors",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.String(300), nullable=False, unique=True),
    )
    op.create_table(
        "paper_authors",
        sa.Column("paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="CASCADE")),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("author_pk", sa.Integer, sa.ForeignKey("authors.pk"), nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "position"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_paper_authors_author", "paper_authors", ["author_pk"])
    op.create_table(
        "paper_categories",
        sa.Column("paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="CASCADE")),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "category"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_paper_categories_category", "paper_categories", ["category", "paper_pk"])
    op.create_table(
        "daily_entries",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="CASCADE")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("submitter", sa.Text),
        sa.Column("upvotes", sa.Integer),
        sa.Column("num_comments", sa.Integer),
        sa.Column("submitted_at", TZ),
        sa.Column("ai_keywords", sa.Text),
        sa.PrimaryKeyConstraint("day", "source", "paper_pk"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_daily_entries_paper", "daily_entries", ["paper_pk"])
    op.create_table(
        "provenance",
        sa.Column("paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="CASCADE")),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("record_hash", sa.String(64)),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "source"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "harvest_state",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )

    if op.get_bind().dialect.name == "sqlite":
        _sqlite_keyword_index()
    else:
        _postgresql_keyword_index()


def _sqlite_keyword_index() -> None:
    # External-content FTS5 over papers, kept in step by triggers so that every write path
    # (ingest, later edits, deletes) updates it without the writer having to remember.
    op.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5("
        "title, authors_text, abstract, content='papers', content_rowid='pk', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN "
        "INSERT INTO papers_fts(rowid, title, authors_text, abstract) "
        "VALUES (new.pk, new.title, new.authors_text, new.abstract); END"
    )
    op.execute(
        "CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN "
        "INSERT INTO papers_fts(papers_fts, rowid, title, authors_text, abstract) "
        "VALUES ('delete', old.pk, old.title, old.authors_text, old.abstract); END"
    )
    # Only a change of an indexed column re-indexes: star counts and links change often.
    op.execute(
        "CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, authors_text, abstract "
        "ON papers WHEN old.title IS NOT new.title OR old.authors_text IS NOT new.authors_text "
        "OR old.abstract IS NOT new.abstract BEGIN "
        "INSERT INTO papers_fts(papers_fts, rowid, title, authors_text, abstract) "
        "VALUES ('delete', old.pk, old.title, old.authors_text, old.abstract); "
        "INSERT INTO papers_fts(rowid, title, authors_text, abstract) "
        "VALUES (new.pk, new.title, new.authors_text, new.abstract); END"
    )


def _postgresql_keyword_index() -> None:
    # A stored generated column is recomputed by PostgreSQL on every write of its inputs.
    op.execute(
        "ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('simple', coalesce(authors_text, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(abstract, '')), 'C')) STORED"
    )
    op.execute("CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("papers_fts_insert", "papers_fts_delete", "papers_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS papers_fts")
    for table in (
        "harvest_state",
        "provenance",
        "daily_entries",
        "paper_categories",
        "paper_authors",
        "authors",
        "papers",
    ):
        op.drop_table(table)
