"""Storage: migrations match the models, times come back in UTC, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.db import normalize_url, unit_of_work
from bot.storage.migrate import current_revision
from bot.storage.models import Base, User


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(engine) == "0016"


def a_trainee(moment: datetime, external_id: str = "t", channel: str = "console", **more: object) -> User:
    """Return a trainee row created and last seen at moment."""
    return User(
        channel=channel,
        external_id=external_id,
        role="trainee",
        created_at=moment,
        last_seen_at=moment,
        notifications_paused=False,
        **more,
    )


def test_times_are_stored_in_utc_and_read_back_aware(session_factory: sessionmaker[Session]) -> None:
    brussels_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 1, 9, 30, tzinfo=brussels_summer)
    with unit_of_work(session_factory) as session:
        session.add(a_trainee(moment))
    with session_factory() as session:
        user = session.scalars(select(User)).one()
        assert user.created_at == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
        assert user.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive"), unit_of_work(session_factory) as session:
        session.add(a_trainee(datetime(2026, 1, 1)))


def test_one_account_per_channel_and_id(session_factory: sessionmaker[Session]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def add(session: Session) -> None:
        session.add(a_trainee(now, external_id="1", channel="telegram"))

    with unit_of_work(session_factory) as session:
        add(session)
    with pytest.raises(IntegrityError), unit_of_work(session_factory) as session:
        add(session)


def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_bare_postgresql_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://postgres@127.0.0.1:5432/test").startswith("postgresql+psycopg://")
    assert normalize_url("sqlite:///data/x.sqlite3") == "sqlite:///data/x.sqlite3"


def test_downgrade_and_upgrade_keep_the_data(engine: Engine, session_factory: sessionmaker[Session]) -> None:
    from alembic import command

    from bot.storage.migrate import alembic_config
    from bot.storage.models import ConversationState

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with unit_of_work(session_factory) as session:
        user = a_trainee(now, consented_at=now, first_name="Samira")
        user.conversation = ConversationState(state="idle", data={}, updated_at=now)
        session.add(user)
    command.downgrade(alembic_config(engine), "0001")
    command.upgrade(alembic_config(engine), "head")
    with session_factory() as session:
        user = session.scalars(select(User)).one()
        assert user.first_name == "Samira"
        assert user.consent_version == 1, "consented under the first text"
        assert session.scalars(select(ConversationState)).one().state == "idle"
