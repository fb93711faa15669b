"""Migrations at start: one query when the database is up to date, Alembic in a child process otherwise."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bot.storage.db import make_engine
from bot.storage.migrate import (
    MigrationError,
    alembic_config,
    bring_up_to_date,
    current_revision,
    head_revisions,
    recorded_revisions,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_merge_revision_revises_both_branches(tmp_path: Path) -> None:
    for name, body in {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision = "b"\ndown_revision = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
        "d.py": 'revision = "d"\ndown_revision = ("b", "c")\nbranch_labels = None\n',
        "helper.py": "VALUE = compute()\n",
    }.items():
        (tmp_path / name).write_text(body)
    assert head_revisions(tmp_path) == {"d"}


def test_a_new_database_is_migrated_by_a_child_process(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        assert recorded_revisions(engine) == frozenset()
        bring_up_to_date(engine)
        assert {current_revision(engine)} == head_revisions()
    finally:
        engine.dispose()


def test_an_up_to_date_database_costs_one_query(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("no process should start for a database already up to date")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert recorded_revisions(engine) == head_revisions()
    bring_up_to_date(engine)


def test_a_database_in_memory_is_migrated_here() -> None:
    engine = make_engine("sqlite://")
    try:
        bring_up_to_date(engine)
        assert recorded_revisions(engine) == head_revisions()
    finally:
        engine.dispose()


def test_a_failed_migration_says_why(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'odd.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
        with pytest.raises(MigrationError, match="9999"):
            bring_up_to_date(engine)
    finally:
        engine.dispose()


def test_the_running_bot_never_keeps_alembic(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        f"""
        import sys
        from bot.app import build_app
        from bot.config import Settings

        settings = Settings(
            _env_file=None,
            database_url="sqlite:///{tmp_path / "bot.sqlite3"}",
            state_dir="{tmp_path / "state"}",
            faq_embedder="none",
        )
        for start in ("first", "restart"):
            app = build_app(settings)
            app.engine.dispose()
            kept = sorted(name for name in sys.modules if name.split(".")[0] in ("alembic", "mako"))
            print(start, kept)
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert finished.stdout.splitlines() == ["first []", "restart []"]
