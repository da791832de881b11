"""Station lists uploaded for expansion scenarios.

Revision ID: 0003_station_lists
Revises: 0002_keys_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_station_lists"
down_revision = "0002_keys_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the ``station_lists`` table."""
    op.create_table(
        "station_lists",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_station_lists_created_at", "station_lists", ["created_at"])


def downgrade() -> None:
    """Drop the ``station_lists`` table."""
    op.drop_index("ix_station_lists_created_at", "station_lists")
    op.drop_table("station_lists")
