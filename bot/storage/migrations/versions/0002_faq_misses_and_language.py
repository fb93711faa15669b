"""Unanswered FAQ questions (for the admins' gaps report), the answer language, the consent version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("consent_version", sa.Integer(), nullable=True))
    # Trainees who consented before: the first consent text, which did not mention kept questions.
    op.execute("UPDATE users SET consent_version = 1 WHERE consented_at IS NOT NULL")
    op.create_table(
        "faq_misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("suggested", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_faq_misses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_misses")),
    )
    op.create_index(op.f("ix_faq_misses_asked_at"), "faq_misses", ["asked_at"])
    op.create_index(op.f("ix_faq_misses_user_id"), "faq_misses", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_faq_misses_user_id"), table_name="faq_misses")
    op.drop_index(op.f("ix_faq_misses_asked_at"), table_name="faq_misses")
    op.drop_table("faq_misses")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("consent_version")
        batch.drop_column("language")
