"""PostgreSQL: a title-only tsvector (``papers.title_vector``) with its GIN index, for the
keyword search's title tier.

Why: the title tier asked ``search_vector`` for the query's words with the title's label
('model:A'); the GIN index cannot test labels, so PostgreSQL read and ranked every paper
that has the word anywhere (114,000 of 200,000 for "model": about 1 s). The title's own
tsvector answers from its index, holds only the title (a few dozen bytes, stored in the
row), and ranks the same: its positions are the A-labelled ones of ``search_vector``.
SQLite's FTS5 already restricts a match to the title column: nothing to do there.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A stored generated column: PostgreSQL keeps it in step with every write of the title.
    op.execute(
        "ALTER TABLE papers ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ("
        "to_tsvector('english', coalesce(title, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_papers_title_vector ON papers USING gin (title_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_papers_title_vector")
    op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS title_vector")
