"""The names owners choose to be shown by (app/web/owners.py: with an access token, a browser is
otherwise shown as ``browser 1a2b3c``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owner_names",
        sa.Column("owner", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        # the name casefolded (app/storage/owner_names.py): one owner's, whatever its case
        sa.Column("folded", sa.String(160), nullable=False),
        sa.UniqueConstraint("folded", name="owner_names_folded_key"),
    )


def downgrade() -> None:
    op.drop_table("owner_names")
