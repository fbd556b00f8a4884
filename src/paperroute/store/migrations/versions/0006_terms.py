"""Term bags per paper, for the tf-idf re-ranking of similar papers.

Why: re-ranking a few hundred candidates by tf-idf cosine read and split every candidate's
abstract at query time (~0.1 ms each); stored bags make it a single indexed read.
``paperroute embed`` makes the bags of existing papers (until then they are made from the
text at query time, with the same result).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_terms",
        sa.Column("paper_pk", sa.Integer(), nullable=False),
        sa.Column("terms", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["paper_pk"], ["papers.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_pk"),
    )


def downgrade() -> None:
    op.drop_table("paper_terms")
