"""What the platform said of each reminder it delivered (WhatsApp status webhooks).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:55:25.544492
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_ref", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_reminders_platform_ref"), ["platform_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_platform_ref"))
        batch_op.drop_column("status_at")
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("platform_ref")
