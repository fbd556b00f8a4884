"""Paper embeddings (float16 vectors per model).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embedding_models",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=300), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model"),
    )
    op.create_table(
        "embeddings",
        sa.Column("paper_pk", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["paper_pk"], ["papers.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_pk", "model"),
    )
    op.create_index(
        "ix_embeddings_model_created", "embeddings", ["model", "created_at"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        # Document frequencies of the keyword index's terms, read to choose the distinctive
        # words of a paper for "similar papers" and to spot very common query words.
        op.execute("CREATE VIRTUAL TABLE papers_fts_vocab USING fts5vocab(papers_fts, 'row')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS papers_fts_vocab")
    op.drop_index("ix_embeddings_model_created", table_name="embeddings")
    op.drop_table("embeddings")
    op.drop_table("embedding_models")
