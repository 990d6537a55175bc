"""Runs and sweeps remember who started them (app/web/owners.py: their owner, with an access
token).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("creator", sa.String(80)))
    op.add_column("sweeps", sa.Column("creator", sa.String(80)))


def downgrade() -> None:
    op.drop_column("sweeps", "creator")
    op.drop_column("runs", "creator")
