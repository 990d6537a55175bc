"""Sweeps (issue 30): a sweep's body and status, and each of its runs (waiting or started).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
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
        "sweeps",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("config", sa.Text, nullable=False),  # JSON: the checked body
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("ended", sa.Float),
        # the process that starts its runs (None: any may claim it) and its last heartbeat
        sa.Column("owner", sa.String(32)),
        sa.Column("updated", sa.Float),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("sweep_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(32), index=True),  # None while it waits
        sa.Column("state", sa.String(16), nullable=False),  # waiting, started, cancelled
        sa.Column("values", sa.Text, nullable=False),  # JSON: the axes' values
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("params", sa.Integer, nullable=False),
        sa.Column("config", sa.Text, nullable=False),  # JSON: the run's config as sent
    )


def downgrade() -> None:
    op.drop_table("sweep_runs")
    op.drop_table("sweeps")
