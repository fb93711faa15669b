"""Migrations: Alembic in a short-lived process, so that the bot itself never keeps it in memory.

Alembic, with Mako (and Pygments where installed), is about 15 MB once imported (measured in the running
bot) for work done once per start. The bot checks the recorded revision with one query and, only when a
migration is pending, runs Alembic in a child process (`python -m bot.storage.migrate`). Short-lived
commands (`cisp-bot db upgrade`, the tests) call `upgrade_database` in their own process.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from bot.storage.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
# Alembic's default name for the table that records the revision; env.py does not change it.
VERSION_TABLE = "alembic_version"
# How the parent hands the database to the child: not on the command line, where `ps` shows a password.
URL_VARIABLE = "CISP_BOT_MIGRATE_DATABASE_URL"


class MigrationError(RuntimeError):
    """The database could not be brought up to date."""


def alembic_config(engine: Engine | None = None) -> Config:
    """Return an Alembic config pointing at the packaged migrations (and at engine, if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Apply every pending migration, in this process."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revisions(versions_dir: Path = VERSIONS_DIR) -> frozenset[str]:
    """Return the newest revisions of the migration files: those no other file revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions_dir.glob("*.py"):
        values = _module_constants(path)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, tuple):  # a merge revises several
            revised.update(str(each) for each in down)
    return frozenset(revisions - revised)


def _module_constants(path: Path) -> dict[str, object]:
    """Return a module's top-level `name = literal` assignments, without running it."""
    constants: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def recorded_revisions(engine: Engine) -> frozenset[str]:
    """Return the revisions the database records (none before the first migration)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def bring_up_to_date(engine: Engine) -> None:
    """Migrate the database if a migration is pending, keeping Alembic out of this long-lived process."""
    if recorded_revisions(engine) == head_revisions():
        return
    if _in_memory(engine):
        # Nobody else can open this database: migrate it here.
        upgrade_database(engine)
        return
    url = engine.url.render_as_string(hide_password=False)
    finished = subprocess.run(
        [sys.executable, "-m", "bot.storage.migrate"],
        env={**os.environ, URL_VARIABLE: url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        last_lines = "\n".join(finished.stderr.strip().splitlines()[-3:])
        raise MigrationError(f"la mise à jour de la base de données a échoué :\n{last_lines}")


def _in_memory(engine: Engine) -> bool:
    database = engine.url.database
    return engine.dialect.name == "sqlite" and (
        not database or database == ":memory:" or "mode=memory" in str(engine.url)
    )


def main() -> None:
    """Migrate the database named by the parent process (the child's side of bring_up_to_date)."""
    engine = make_engine(os.environ[URL_VARIABLE])
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
