"""SQLite: the titles' own FTS5 index (``paper_titles_fts``, external content over
``papers.title``, kept in step by triggers), for the keyword search's title tier.

Why: the title tier asked ``papers_fts`` for the query's words in the title column
(``title : (...)``). FTS5 answers a column filter from the position lists of the whole
document, so a title fragment with common words ("On a multi-species") read the positions
of "on" and "a" in nearly every abstract, and BM25 counted the papers with each word in a
title by reading them again: 120-220 ms at 1M papers. Titles are about a tenth of the
text; their own index holds "a" for the papers with "a" in the title only. PostgreSQL has
its own (``paper_titles``, migration 0015): nothing to do there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The tokenizer of papers_fts (0001): a word matches in a title as it does anywhere.
_TABLE = (
    "CREATE VIRTUAL TABLE paper_titles_fts USING fts5(title, content='papers', "
    "content_rowid='pk', tokenize='porter unicode61 remove_diacritics 2')"
)
_TRIGGERS = (
    "CREATE TRIGGER paper_titles_fts_insert AFTER INSERT ON papers BEGIN "
    "INSERT INTO paper_titles_fts(rowid, title) VALUES (new.pk, new.title); END",
    "CREATE TRIGGER paper_titles_fts_delete AFTER DELETE ON papers BEGIN "
    "INSERT INTO paper_titles_fts(paper_titles_fts, rowid, title) "
    "VALUES ('delete', old.pk, old.title); END",
    # Only a change of the title re-indexes it.
    "CREATE TRIGGER paper_titles_fts_update AFTER UPDATE OF title ON papers "
    "WHEN old.title IS NOT new.title BEGIN "
    "INSERT INTO paper_titles_fts(paper_titles_fts, rowid, title) "
    "VALUES ('delete', old.pk, old.title); "
    "INSERT INTO paper_titles_fts(rowid, title) VALUES (new.pk, new.title); END",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(_TABLE)
    op.execute("INSERT INTO paper_titles_fts(paper_titles_fts) VALUES ('rebuild')")
    for trigger in _TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS paper_titles_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS paper_titles_fts")
