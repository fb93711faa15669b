"""A gap handled from the console is marked with the save that handled it (undoing the save brings it back).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_misses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_faq_misses_handled_by_id"), ["handled_by_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_faq_misses_handled_by_id_faq_revisions"),
            "faq_revisions",
            ["handled_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_misses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_faq_misses_handled_by_id_faq_revisions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_faq_misses_handled_by_id"))
        batch_op.drop_column("handled_by_id")
