"""Request numbers are never given twice: tickets use SQLite's AUTOINCREMENT (PostgreSQL already does).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # a sequence never goes back
    # The table is copied into one created with AUTOINCREMENT; its highest id seeds the counter.
    with op.batch_alter_table("tickets", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("tickets", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
