"""Readers edit and report comments: ``comments.edited_at`` (a page says "edited") and
``comment_reports`` (one report per reader and comment, listed for admins on /admin).
Deleting a comment deletes its row, so nothing else is needed for that.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("edited_at", sa.DateTime(timezone=True)))
    op.create_table(
        "comment_reports",
        sa.Column(
            "comment_pk",
            sa.Integer,
            sa.ForeignKey("comments.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_pk", sa.Integer, sa.ForeignKey("users.pk", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("comment_pk", "user_pk"),
    )
    op.create_index("ix_comment_reports_created", "comment_reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_comment_reports_created", table_name="comment_reports")
    op.drop_table("comment_reports")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("edited_at")
