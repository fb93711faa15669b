"""Alembic environment: runs on the engine handed over by bot.storage.db, or on DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from bot.storage.models import Base


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine
    # Command-line use (`alembic revision --autogenerate`): read the operator's settings.
    from bot.config import Settings
    from bot.storage.db import make_engine

    return make_engine(Settings().database_url)


def run_migrations_online() -> None:
    """Run the migrations inside one transaction."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
