"""Stored uploads keep their file's name beside the blob (the runs page lists them by it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("name", sa.String(200)))


def downgrade() -> None:
    op.drop_column("datasets", "name")
