"""An index on the send log's Message-IDs: a bounce counts only for a digest that was sent,
found by the Message-ID the DSN returns (digest/_bounces.py); without the index each bounce
would scan every row of every run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_digest_sends_message_id", "digest_sends", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_digest_sends_message_id", table_name="digest_sends")
