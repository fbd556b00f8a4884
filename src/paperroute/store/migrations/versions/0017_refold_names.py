"""Display names checked again under the current rules (``community/_refold.py``).

Why: a name's comparison key is stored when it is chosen, and the folding rules grew after
some names were chosen (Hangul fillers refused, Turkish dotless i, Latin small capitals and
more look-alikes folded): "Alice" and a later "Alıce" could both stand. Each chosen name's
key is recomputed, in the order the names were chosen; a name the rules now refuse, or one
an earlier reader's name now equals, goes back to that reader's default ``reader-<pk>`` (they
can choose another on /me). Nothing else changes; the downgrade keeps the new keys (they are
what the application computes anyway).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from paperroute.community._refold import refold_names

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refold_names(op.get_bind())


def downgrade() -> None:
    pass
