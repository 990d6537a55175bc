"""Stored uploads keep their file's name beside the blob (the runs page lists them by it).

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
    op.add_column("datasets", sa.Column("name", sa.String(200)))


def downgrade() -> None:
    op.drop_column("datasets", "name")
