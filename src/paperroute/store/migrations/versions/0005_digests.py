"""Subscribers, suppression, bounces, digest runs and the per-recipient send log.

Why: email digests (issue 5) need double opt-in subscribers, a suppression list no later
subscribe can bypass, and a send log keyed by (run, subscriber) so that a killed run resumes
without skipping or repeating anyone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("send_hour", sa.SmallInteger(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("trending", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("authors", sa.Text(), nullable=False),
        sa.Column("max_papers", sa.SmallInteger(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("email"),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])
    op.create_table(
        "suppressions",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "bounces",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("pk"),
    )
    op.create_index("ix_bounces_email", "bounces", ["email", "received_at"])
    op.create_table(
        "digest_runs",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("as_of", TZ, nullable=False),
        sa.Column("ref_day", sa.Date(), nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("pk"),
    )
    op.create_table(
        "digest_sends",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("subscriber_pk", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("papers", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["run_pk"], ["digest_runs.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_pk"], ["subscribers.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_pk", "subscriber_pk"),
        sa.UniqueConstraint("subscriber_pk", "period", name="uq_digest_sends_period"),
    )
    op.create_index("ix_digest_sends_status", "digest_sends", ["run_pk", "status"])
    op.create_table(
        "digest_received",
        sa.Column("subscriber_pk", sa.Integer(), nullable=False),
        sa.Column("paper_pk", sa.Integer(), nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["paper_pk"], ["papers.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_pk"], ["subscribers.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_pk", "paper_pk"),
    )
    op.create_index("ix_digest_received_paper", "digest_received", ["paper_pk"])
    op.create_table(
        "digest_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("digest_lease")
    op.drop_index("ix_digest_received_paper", table_name="digest_received")
    op.drop_table("digest_received")
    op.drop_index("ix_digest_sends_status", table_name="digest_sends")
    op.drop_table("digest_sends")
    op.drop_table("digest_runs")
    op.drop_index("ix_bounces_email", table_name="bounces")
    op.drop_table("bounces")
    op.drop_table("suppressions")
    op.drop_index("ix_subscribers_status", table_name="subscribers")
    op.drop_table("subscribers")
