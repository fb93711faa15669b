"""Appointments with social workers, their reminders, days off, and the phone of a call-back request.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BOOKED_ONLY = sa.text("status = 'booked'")


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=8), nullable=True),
        sa.Column("moved_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["users.id"], name=op.f("fk_appointments_trainee_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["moved_from_id"],
            ["appointments.id"],
            name=op.f("fk_appointments_moved_from_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(op.f("ix_appointments_trainee_id"), "appointments", ["trainee_id"])
    op.create_index(op.f("ix_appointments_starts_at"), "appointments", ["starts_at"])
    op.create_index(op.f("ix_appointments_status"), "appointments", ["status"])
    op.create_index(
        "uq_appointments_active_slot",
        "appointments",
        ["worker_id", "starts_at"],
        unique=True,
        sqlite_where=BOOKED_ONLY,
        postgresql_where=BOOKED_ONLY,
    )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminders_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_reminders_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_id"),
    )
    op.create_index(op.f("ix_reminders_user_id"), "reminders", ["user_id"])
    op.create_index(op.f("ix_reminders_appointment_id"), "reminders", ["appointment_id"])
    op.create_index(op.f("ix_reminders_due_at"), "reminders", ["due_at"])

    op.create_table(
        "days_off",
        sa.Column("worker_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "day", name=op.f("pk_days_off")),
    )

    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("phone")
    op.drop_table("days_off")
    for index in ("ix_reminders_due_at", "ix_reminders_appointment_id", "ix_reminders_user_id"):
        op.drop_index(op.f(index), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("uq_appointments_active_slot", table_name="appointments")
    for index in ("ix_appointments_status", "ix_appointments_starts_at", "ix_appointments_trainee_id"):
        op.drop_index(op.f(index), table_name="appointments")
    op.drop_table("appointments")
