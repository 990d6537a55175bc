"""Runs, history chunks, checkpoints and uploaded datasets.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("ended", sa.Float),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("owner", sa.String(32)),
        sa.Column("elapsed", sa.Float, nullable=False, server_default="0"),
        sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
        sa.Column("epochs", sa.Integer, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("train_loss", sa.Float),
        sa.Column("test_loss", sa.Float),
        sa.Column("best_test_loss", sa.Float),
        sa.Column("train_acc", sa.Float),
        sa.Column("test_acc", sa.Float),
        sa.Column("best_test_acc", sa.Float),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("continued_from", sa.String(32)),
    )
    op.create_index("ix_runs_task", "runs", ["task"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_created", "runs", ["created"])
    op.create_table(
        "history_chunks",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("start", sa.Integer, primary_key=True),
        sa.Column("stop", sa.Integer, nullable=False),
        sa.Column("elapsed", sa.Float, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("datasets")
    op.drop_table("checkpoints")
    op.drop_table("history_chunks")
    op.drop_index("ix_runs_created", "runs")
    op.drop_index("ix_runs_status", "runs")
    op.drop_index("ix_runs_task", "runs")
    op.drop_table("runs")
