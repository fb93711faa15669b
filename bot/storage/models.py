"""Database models (SQLAlchemy 2, typed).

Every table that holds data about a person is listed in `bot.features.privacy`, so that /mesdonnees
and /oublier stay true as tables are added.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.core.clock import as_utc

# Named constraints so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC datetime."""
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(StrEnum):
    """What a person is to the centre."""

    TRAINEE = "trainee"
    SOCIAL_WORKER = "social_worker"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        """Say whether this role may use staff actions."""
        return self is not Role.TRAINEE


class User(Base):
    """A person known to the bot on one channel: a trainee who consented, or a staff member."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default=Role.TRAINEE.value)
    first_name: Mapped[str | None] = mapped_column(String(40))
    filiere: Mapped[str | None] = mapped_column(String(60))
    # FAQ answers come in this language when the file has it ("nl", "en"); None means French.
    language: Mapped[str | None] = mapped_column(String(2))
    consented_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Which consent text was accepted (texts.CONSENT_VERSION): what it allowed us to keep.
    consent_version: Mapped[int | None] = mapped_column(Integer)
    notifications_paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)

    conversation: Mapped[ConversationState | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    faq_misses: Mapped[list[FaqMiss]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def role_enum(self) -> Role:
        """Return the role as an enum."""
        return Role(self.role)


class ConversationState(Base):
    """Where a user is in a dialogue, kept in the database so that a restart loses nothing."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="conversation")


class FaqMiss(Base):
    """A question the FAQ could not answer, kept for the admins' to-do list (`cisp-bot faq gaps`).

    Linked to its author only so that /mesdonnees shows it and /oublier erases it; the gaps report never
    shows who asked. Kept for a limited time (FAQ_MISS_RETENTION_DAYS).
    """

    __tablename__ = "faq_misses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    question: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))  # "fallback" or "suggest"
    # Entry ids offered, space-separated; the row is deleted when the trainee picks one of them.
    suggested: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(back_populates="faq_misses")


class ProcessedDelivery(Base):
    """A platform delivery already handled (Telegram update_id, WhatsApp message id).

    Platforms deliver at least once (a polling offset not yet confirmed at a restart, a webhook retry):
    the row is written in the same transaction as the handling, so a delivery is handled at most once.
    Holds no person and no text; rows older than a week are purged.
    """

    __tablename__ = "processed_deliveries"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
