"""Module sessions, enrolments, answers to session reminders; session reminders; unreachable users.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:57:00.445277
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("module", sa.String(length=120), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("is_video", sa.Boolean(), nullable=False),
        sa.Column("trainer", sa.String(length=80), nullable=True),
        sa.Column("filieres", sa.String(length=600), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
        sa.UniqueConstraint("key", name=op.f("uq_training_sessions_key")),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sessions_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_enrolments_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrolments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "session_id", name=op.f("pk_enrolments")),
    )
    op.create_table(
        "session_answers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_session_answers_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_answers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "session_id", name=op.f("pk_session_answers")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "kind", existing_type=sa.VARCHAR(length=16), type_=sa.String(length=48), existing_nullable=False
        )
        batch_op.create_index(batch_op.f("ix_reminders_session_id"), ["session_id"], unique=False)
        batch_op.create_unique_constraint("uq_reminders_session_id", ["session_id", "user_id", "kind"])
        batch_op.create_foreign_key(
            batch_op.f("fk_reminders_session_id_training_sessions"),
            "training_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")

    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reminders_session_id_training_sessions"), type_="foreignkey")
        batch_op.drop_constraint("uq_reminders_session_id", type_="unique")
        batch_op.drop_index(batch_op.f("ix_reminders_session_id"))
        batch_op.alter_column(
            "kind", existing_type=sa.String(length=48), type_=sa.VARCHAR(length=16), existing_nullable=False
        )
        batch_op.drop_column("session_id")

    op.drop_table("session_answers")
    op.drop_table("enrolments")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sessions_starts_at"))

    op.drop_table("training_sessions")
