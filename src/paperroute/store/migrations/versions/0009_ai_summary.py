"""Hugging Face's machine-written one-sentence summary of a listed paper (``ai_summary`` in
its daily papers), kept beside its AI keywords and shown on the paper page as
machine-written. Existing rows get NULL; the next import of a day fills it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("daily_entries", sa.Column("ai_summary", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("daily_entries") as batch:
        batch.drop_column("ai_summary")
