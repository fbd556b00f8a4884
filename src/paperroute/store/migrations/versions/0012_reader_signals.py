"""A reader's private signals for "For you" (issue 12): feedback on papers ("more like
this" / "not interested"), followed authors and categories, the imported library (entries
not in the store keep the file's own title, authors, year and abstract, privately) and the
reader's For-you settings; on subscribers, whether the digest carries a "For you" section
and the seed papers of a subscriber without an account. Existing subscribers get no For-you
section and no seeds.

Revision ID: 0012
Revises: 0009 (re-chained after 0011 by the integrator)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def _user() -> sa.Column[int]:
    return sa.Column(
        "user_pk", sa.Integer, sa.ForeignKey("users.pk", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "reader_feedback",
        _user(),
        sa.Column(
            "paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_pk", "paper_pk"),
    )
    op.create_table(
        "reader_follows",
        _user(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_pk", "kind", "value"),
    )
    op.create_table(
        "library_entries",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _user(),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("paper_pk", sa.Integer, sa.ForeignKey("papers.pk", ondelete="SET NULL")),
        sa.Column("ref", sa.String(400)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("year", sa.SmallInteger),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_library_entries_user", "library_entries", ["user_pk", "position"])
    op.create_table(
        "reader_settings",
        sa.Column(
            "user_pk",
            sa.Integer,
            sa.ForeignKey("users.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("for_you_days", sa.SmallInteger, nullable=False),
        sa.Column("library_name", sa.String(200)),
        sa.Column("library_at", sa.DateTime(timezone=True)),
    )
    # A plain ADD COLUMN, not a batch copy: on SQLite the copy drops the old table, and with
    # foreign keys on that would delete every subscriber's send log (ON DELETE CASCADE).
    op.add_column(
        "subscribers", sa.Column("for_you", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "subscribers", sa.Column("seed_ids", sa.Text, nullable=False, server_default="[]")
    )


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+) for the same reason.
    op.execute("ALTER TABLE subscribers DROP COLUMN seed_ids")
    op.execute("ALTER TABLE subscribers DROP COLUMN for_you")
    op.drop_table("reader_settings")
    op.drop_index("ix_library_entries_user", table_name="library_entries")
    op.drop_table("library_entries")
    op.drop_table("reader_follows")
    op.drop_table("reader_feedback")
