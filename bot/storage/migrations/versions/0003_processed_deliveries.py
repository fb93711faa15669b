"""Platform deliveries already handled, so that a redelivered update is handled at most once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_deliveries",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "delivery_id", name=op.f("pk_processed_deliveries")),
    )
    op.create_index(op.f("ix_processed_deliveries_processed_at"), "processed_deliveries", ["processed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_deliveries_processed_at"), table_name="processed_deliveries")
    op.drop_table("processed_deliveries")
