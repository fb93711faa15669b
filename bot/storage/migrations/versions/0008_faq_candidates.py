"""Candidate alternatives of FAQ entries: questions an entry answered, for an admin to accept or reject.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
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
        "faq_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=60), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_faq_candidates_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_faq_candidates_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_candidates")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_faq_candidates_ticket_id")),
    )
    with op.batch_alter_table("faq_candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_candidates_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_candidates_proposed_at"), ["proposed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_candidates_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_candidates_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_candidates_user_id"))
        batch_op.drop_index(batch_op.f("ix_faq_candidates_status"))
        batch_op.drop_index(batch_op.f("ix_faq_candidates_proposed_at"))
        batch_op.drop_index(batch_op.f("ix_faq_candidates_entry_id"))
    op.drop_table("faq_candidates")
