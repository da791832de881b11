"""Key expiry and the audit log of writes.

Revision ID: 0002_keys_audit
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_keys_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add ``api_keys.expires_at`` and the ``audit_log`` table."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", TS, nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("key_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("target", sa.String(400), nullable=True),
        sa.Column("request_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_key", "audit_log", ["key_id", "at"])


def downgrade() -> None:
    """Drop the audit log and the expiry column."""
    op.drop_index("ix_audit_log_key", "audit_log")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
