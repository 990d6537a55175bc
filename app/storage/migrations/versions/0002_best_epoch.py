"""Runs remember their best epoch (the epoch of their lowest test loss).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("best_epoch", sa.Integer))


def downgrade() -> None:
    op.drop_column("runs", "best_epoch")
