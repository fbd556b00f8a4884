"""The background jobs (issue 11): the scheduled sources an operator adds
(``paperroute sources add``), each with its schedule, its lease and how its last runs went,
and one row of totals per kind of job (runs, failures, durations: ``/metrics``). Existing data
is untouched: both tables start empty.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("every_s", sa.Integer),
        sa.Column("at_time", sa.String(5)),
        sa.Column("tz", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("next_run_at", TZ, nullable=False),
        sa.Column("last_run_at", TZ),
        sa.Column("last_added", sa.Integer, nullable=False),
        sa.Column("total_added", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("offline_until", TZ),
        sa.Column("claimed_by", sa.String(40)),
        sa.Column("claimed_until", TZ),
    )
    op.create_index("ix_sources_next_run", "sources", ["next_run_at"])
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(60), primary_key=True),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("last_success_at", TZ),
        sa.Column("last_failure_at", TZ),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_index("ix_sources_next_run", "sources")
    op.drop_table("sources")
