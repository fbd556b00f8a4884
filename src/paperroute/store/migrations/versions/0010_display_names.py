"""Readers' display names: the part of the address before the @ was shown publicly on every
comment and collection. Every existing reader gets the neutral ``reader-<pk>`` until they
choose a name on /me (``name_chosen_at``); ``display_key`` (the name folded for comparison,
unique) keeps two readers from sharing one. Papers submitted on the hub showed the same
local part as "Submitted by": it becomes the submitter's new name, or "a reader" where two
readers had that name and the submission cannot tell which.

Plain ADD COLUMN, no batch mode: on SQLite a batch rebuilds ``users``, and dropping the old
table (foreign keys on) would cascade-delete every vote, comment and collection.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("display_key", sa.String(80)))
    op.add_column("users", sa.Column("name_chosen_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE daily_entries SET submitter = COALESCE("
        "(SELECT 'reader-' || CAST(MIN(u.pk) AS VARCHAR(20)) FROM users u "
        "WHERE u.display_name = daily_entries.submitter HAVING COUNT(*) = 1), 'a reader') "
        "WHERE source = 'hub' AND kind = 'submitted' AND submitter IS NOT NULL"
    )
    # The keys of defaults are "reader<pk>" (community/_names.py: default_key).
    op.execute(
        "UPDATE users SET display_name = 'reader-' || CAST(pk AS VARCHAR(20)), "
        "display_key = 'reader' || CAST(pk AS VARCHAR(20))"
    )
    op.create_index("ix_users_display_key", "users", ["display_key"], unique=True)


def downgrade() -> None:
    # The chosen names stay in display_name; only the key and the flag go.
    op.drop_index("ix_users_display_key", table_name="users")
    op.drop_column("users", "name_chosen_at")
    op.drop_column("users", "display_key")
