"""Uploads remember who created them (app/web/owners.py: their owner, with an access token).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("creator", sa.String(80)))


def downgrade() -> None:
    op.drop_column("datasets", "creator")
