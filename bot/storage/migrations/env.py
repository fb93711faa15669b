"""Alembic environment: runs on the engine handed over by bot.storage.db, or on DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from bot.storage.models import Base


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine
    # Command-line use (`alembic revision --autogenerate`): read the operator's settings.
    from bot.config import Settings
    from bot.storage.db import make_engine

    return make_engine(Settings().database_url)


def _set_sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    """Run the migrations inside one transaction."""
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's batch migrations copy and drop tables: with foreign keys on, dropping the old
            # users table would cascade into every table that references it. Outside a transaction,
            # on the raw connection, since SQLite ignores this pragma inside one.
            _set_sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, on=True)


run_migrations_online()
