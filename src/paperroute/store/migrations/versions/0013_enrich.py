"""The hub's upkeep (issue 11): categories inferred from neighbouring papers, the state of
arXiv enrichment and of GitHub star refreshes (each with a claim, so two runs at once never
take the same row), and trending's precomputed rankings with the stamp of their inputs; an
index on papers.modified_at makes that stamp cheap. Existing data is untouched: the new
tables start empty and the jobs fill them.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_papers_modified_at", "papers", ["modified_at"])
    op.create_table(
        "inferred_categories",
        sa.Column(
            "paper_pk",
            sa.Integer,
            sa.ForeignKey("papers.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("inferred_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("paper_pk", "category"),
    )
    op.create_index(
        "ix_inferred_categories_category", "inferred_categories", ["category", "paper_pk"]
    )
    op.create_table(
        "enrich_state",
        sa.Column(
            "paper_pk",
            sa.Integer,
            sa.ForeignKey("papers.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("tried_at", TZ),
        sa.Column("retry_at", TZ),
        sa.Column("claimed_by", sa.String(40)),
        sa.Column("claimed_until", TZ),
    )
    op.create_table(
        "code_repos",
        sa.Column("repo", sa.String(200), primary_key=True),
        sa.Column("stars", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("checked_at", TZ),
        sa.Column("claimed_by", sa.String(40)),
        sa.Column("claimed_until", TZ),
    )
    op.create_index("ix_code_repos_checked", "code_repos", ["checked_at"])
    op.create_table(
        "trending_scores",
        sa.Column("window", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column(
            "paper_pk",
            sa.Integer,
            sa.ForeignKey("papers.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("paper_id", sa.String(320), nullable=False),
        sa.Column("hf_upvotes", sa.Integer, nullable=False),
        sa.Column("votes", sa.Integer, nullable=False),
        sa.Column("stars", sa.Integer),
        sa.Column("age_days", sa.Float, nullable=False),
        sa.Column("upvote_term", sa.Float, nullable=False),
        sa.Column("star_term", sa.Float, nullable=False),
        sa.Column("recency_term", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("window", "position"),
    )
    op.create_table(
        "trending_runs",
        sa.Column("window", sa.String(8), primary_key=True),
        sa.Column("stamp", sa.Text, nullable=False),
        sa.Column("computed_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "trending_runs",
        "trending_scores",
        "code_repos",
        "enrich_state",
        "inferred_categories",
    ):
        op.drop_table(table)
    op.drop_index("ix_papers_modified_at", "papers")
