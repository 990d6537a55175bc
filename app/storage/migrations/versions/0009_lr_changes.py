"""A run's learning rate from the start and each live change (the runs list shows them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("lr_changes", sa.Text))


def downgrade() -> None:
    op.drop_column("runs", "lr_changes")
