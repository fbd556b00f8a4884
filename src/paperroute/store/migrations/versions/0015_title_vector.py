"""PostgreSQL: the titles' own tsvectors (``paper_titles``, GIN-indexed, kept in step with
``papers.title`` by triggers), for the keyword search's title tier.

Why: the title tier asked ``search_vector`` for the query's words with the title's label
('model:A'); the GIN index cannot test labels, so PostgreSQL read and ranked every paper
that has the word anywhere (114,000 of 200,000 for "model": about 1 s). A title's own
tsvector answers from its index and ranks the same (its positions are the A-labelled ones of
``search_vector``). In a narrow table of its own, not a column of ``papers``: the tier reads
the most recent few hundred matches, walking back from the newest pk, and a common word
leaves ten times as many rows to step over; in ``papers`` each is a row with its abstract
(36 ms for "network" at 200k papers, against 8 ms here). SQLite's FTS5 already restricts a
match to the title column: nothing to do there.

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
    op.execute(
        "CREATE TABLE paper_titles ("
        "paper_pk integer PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE, "
        "title_vector tsvector NOT NULL)"
    )
    op.execute(
        "INSERT INTO paper_titles (paper_pk, title_vector) "
        "SELECT pk, to_tsvector('english', coalesce(title, '')) FROM papers"
    )
    op.execute("CREATE INDEX ix_paper_titles_vector ON paper_titles USING gin (title_vector)")
    op.execute(
        "CREATE FUNCTION paper_titles_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "INSERT INTO paper_titles (paper_pk, title_vector) "
        "VALUES (NEW.pk, to_tsvector('english', coalesce(NEW.title, ''))) "
        "ON CONFLICT (paper_pk) DO UPDATE SET title_vector = EXCLUDED.title_vector; "
        "RETURN NULL; "
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER paper_titles_insert AFTER INSERT ON papers "
        "FOR EACH ROW EXECUTE FUNCTION paper_titles_sync()"
    )
    op.execute(
        "CREATE TRIGGER paper_titles_update AFTER UPDATE OF title ON papers "
        "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) "
        "EXECUTE FUNCTION paper_titles_sync()"
    )
    op.execute("ANALYZE paper_titles")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS paper_titles_update ON papers")
    op.execute("DROP TRIGGER IF EXISTS paper_titles_insert ON papers")
    op.execute("DROP FUNCTION IF EXISTS paper_titles_sync()")
    op.execute("DROP TABLE IF EXISTS paper_titles")
