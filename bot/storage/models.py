"""Database models (SQLAlchemy 2, typed).

Every table that holds data about a person is listed in `bot.features.privacy`, so that /mesdonnees
and /oublier stay true as tables are added.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.common.clock import as_utc

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
    # When a push failed for good (blocked the bot, chat gone): staff see it; a message from them clears it.
    unreachable_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)

    conversation: Mapped[ConversationState | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    faq_misses: Mapped[list[FaqMiss]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    faq_candidates: Mapped[list[FaqCandidate]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    tickets: Mapped[list[Ticket]] = relationship(
        back_populates="trainee",
        cascade="all, delete-orphan",
        passive_deletes=True,
        foreign_keys="Ticket.trainee_id",
    )
    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="trainee", cascade="all, delete-orphan", passive_deletes=True
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
    # The buttons of the bot's last message, [[payload, title], ...]: a typed "2" presses the second.
    shown: Mapped[list[list[str]] | None] = mapped_column(JSON)

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
    # Handled from the staff console by this save (a phrasing added, an entry created): off the gaps
    # list, and back on it if the save is undone.
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_revisions.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship(back_populates="faq_misses")


class CandidateSource(StrEnum):
    """Who linked a question to an FAQ entry."""

    SUGGESTION = "suggestion"  # the trainee tapped it among the "did you mean" buttons
    TICKET = "ticket"  # a social worker said so when closing the trainee's request to talk to a person


class CandidateStatus(StrEnum):
    """Where a candidate alternative stands; an accepted one is deleted (its phrasing is in the FAQ file)."""

    PENDING = "pending"
    # Kept until its retention ends, so that the same phrasing is not proposed again for the same entry.
    REJECTED = "rejected"


class FaqCandidate(Base):
    """A trainee's question that an FAQ entry answered: an alternative for an admin to accept or reject.

    Linked to its author only so that /mesdonnees shows it and /oublier erases it; staff never see who
    asked. Kept for a limited time (FAQ_MISS_RETENTION_DAYS), like the unanswered questions.
    """

    __tablename__ = "faq_candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(60), index=True)
    question: Mapped[str] = mapped_column(String(500))  # masked as the unanswered questions are
    source: Mapped[str] = mapped_column(String(16))  # CandidateSource
    status: Mapped[str] = mapped_column(String(8), default=CandidateStatus.PENDING.value, index=True)
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The request it came from: one candidate per request, however often the button is pressed.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), unique=True)

    user: Mapped[User] = relationship(back_populates="faq_candidates")


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


class TicketStatus(StrEnum):
    """Where a request to talk to a person stands."""

    OPEN = "open"
    CLOSED = "closed"


class Ticket(Base):
    """A trainee's request to talk to a person of the centre, from opening to closing.

    Belongs to the trainee (erased with them). The social worker who took it is a link that survives
    neither their removal (set to NULL) nor the trainee's erasure (the ticket goes).
    """

    __tablename__ = "tickets"
    __table_args__ = (
        # One open ticket per trainee, enforced by the database: two taps racing open one ticket.
        Index(
            "uq_tickets_open_per_trainee",
            "trainee_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        # A request's number is its id, said to trainees and staff: never given again, even after the
        # newest request was erased (SQLite would reuse the highest id; PostgreSQL's sequence never does).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8), default=TicketStatus.OPEN.value, index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(8))  # "staff", "trainee" or "expired"
    feedback: Mapped[str | None] = mapped_column(String(4))  # "up" or "down"
    # Where the staff alert was posted ("<chat id>:<message id>"): replies to it reach the ticket.
    alert_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # A request to be called back (instead of an appointment): the number the trainee gave for it.
    phone: Mapped[str | None] = mapped_column(String(32))

    trainee: Mapped[User] = relationship(back_populates="tickets", foreign_keys=[trainee_id])
    worker: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TicketMessage.id",
    )


class TicketMessage(Base):
    """One message of a ticket: from the trainee, or from the social worker to the trainee."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(8))  # "trainee" or "staff"
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(String(4096))
    attachment: Mapped[str | None] = mapped_column(String(16))  # "voice", "photo", "document"...
    # The platform's reference of the file (Telegram file_id): it can be sent again without a copy here.
    attachment_ref: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class OutboxMessage(Base):
    """A message to push outside a conversation turn (relay, alert, reminder), sent by the dispatcher.

    Written in the same transaction as what caused it, so a push is never lost to a crash and never
    sent for a change that was rolled back; deleted once sent. Linked to the person it is about, so
    that /oublier erases what is still waiting.
    """

    __tablename__ = "outbox"
    # The oldest row of each chat is taken first, and alone: one chat's messages leave in order.
    __table_args__ = (Index("ix_outbox_chat", "channel", "recipient", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    # {"replies": [{"text": ..., "buttons": [[id, title], ...]}], "attachment": ..., "edit": ...}
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Not sent before this instant: a failed send waits before the next try.
    not_before: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A dispatcher that took the row holds it until then; after that (it crashed), another may take it.
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A staff alert for this ticket: where it was posted is written back on the ticket.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)


class InboxMessage(Base):
    """A message a platform delivered, stored before the platform is told it arrived; deleted once handled.

    Telegram's offset is confirmed, and a webhook answered 200, only once the row is committed: a crash
    after that finds the message here at the next start. The row is deleted in the same transaction
    that handles it (and writes its replies to the outbox), so it is handled once. A worker takes the
    oldest row of each sender only, so that one person's messages are handled in the order they came.
    Holds the message as the platform sent it (text included) for the seconds it waits.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "delivery_id"),
        Index("ix_inbox_sender", "channel", "sender", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Whose messages are handled in order: the chat (Telegram) or the phone number (WhatsApp).
    sender: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A worker that took the row holds it until then, renewing while it works; after that, another may.
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # How many times a worker took it: a message that fails every time is given up after a few.
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class JobRun(Base):
    """A periodic job done for one period ("daily-summary", "2026-11-25"): done once, by one process."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AppointmentStatus(StrEnum):
    """Where an appointment stands."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    DONE = "done"
    NO_SHOW = "no_show"


class Appointment(Base):
    """A trainee's appointment with a social worker (the worker is an id of the availability file)."""

    __tablename__ = "appointments"
    __table_args__ = (
        # No double booking, ever: the database refuses a second active booking of one worker's slot,
        # whatever the code above it does. Cancelled ones leave the index: the slot is free at once.
        Index(
            "uq_appointments_active_slot",
            "worker_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default=AppointmentStatus.BOOKED.value, index=True)
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "Je serai là" pressed on a reminder.
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(8))  # "trainee" or "staff"
    # The appointment this one replaces (moved by the trainee).
    moved_from_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))

    trainee: Mapped[User] = relationship(back_populates="appointments")


class Reminder(Base):
    """A reminder of an appointment or of a module session, sent exactly once.

    Appointments: the row is written at booking with its due time; a periodic job takes the due rows
    (locked, so two processes never take the same), checks they still apply and writes the push and
    ``sent_at`` in one transaction. Sessions: the job inserts the row when the reminder is due, and only
    the process whose insert succeeds (the unique constraint decides) writes the push, in the same
    transaction.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_id"),
        UniqueConstraint("session_id", "user_id", "kind", name="uq_reminders_session_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    # "24h", "2h" (appointments); "veille@<start>", "1h@<start>" (sessions: a moved session is new)
    kind: Mapped[str] = mapped_column(String(48))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The platform's id of the message sent ("whatsapp:<wamid>"), and what the platform said of it since.
    platform_ref: Mapped[str | None] = mapped_column(String(160), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(12))  # sent, delivered, read, failed
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DayOff(Base):
    """A social worker's day off added with `cisp-bot availability off` (the file has the others)."""

    __tablename__ = "days_off"

    worker_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class TrainingSession(Base):
    """A session of a training module, imported from the admins' file (`cisp-bot sessions import`)."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The file's id column, or module + local start: what makes a re-import update instead of duplicate.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    module: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    place: Mapped[str] = mapped_column(String(300))
    is_video: Mapped[bool] = mapped_column(default=False)
    trainer: Mapped[str | None] = mapped_column(String(80))
    # The filières enrolled, as names (";"-joined); "*" means every trainee.
    filieres: Mapped[str] = mapped_column(String(600))
    cancelled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Enrolment(Base):
    """A trainee enrolled in one session by name (`cisp-bot sessions enrol`), besides their filière's."""

    __tablename__ = "enrolments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SessionAnswer(Base):
    """What a trainee answered to a session reminder: there, or absent (with an optional reason)."""

    __tablename__ = "session_answers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str] = mapped_column(String(8))  # "present" or "absent"
    reason: Mapped[str | None] = mapped_column(String(300))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NumberedChoice(Base):
    """The choices last shown to a person as numbered text (WhatsApp, beyond ten buttons).

    In the database, not in the process that sent them: the typed number may reach another process.
    One row per person, replaced by the next message that shows choices, erased with the person.
    """

    __tablename__ = "numbered_choices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # [[button payload, title], ...] in the order of their numbers.
    buttons: Mapped[list[list[str]]] = mapped_column(JSON)
    shown_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleLink(Base):
    """A one-time link into the staff console: only its hash is kept, so the database never holds a key."""

    __tablename__ = "console_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsoleSession(Base):
    """A staff member logged into the console: the cookie holds the key, this row its hash and expiry.

    In the database so that logging out ends the session in every process, and a removed staff member's
    sessions end with the account.
    """

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Every form of the session carries it: a page of another site cannot know it.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleAttempt(Base):
    """A refused login (an unknown, used or expired link), counted per source to slow down guessing.

    The source is a keyed hash of the address, never the address itself; rows are purged after an hour.
    """

    __tablename__ = "console_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FaqRevision(Base):
    """One save of an FAQ entry from the console: who, when, and the file before and after (to restore)."""

    __tablename__ = "faq_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(120))
    entry_id: Mapped[str] = mapped_column(String(80), index=True)
    # The staff member who saved it; the history stays when they leave.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(40))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    before_text: Mapped[str] = mapped_column(Text)
    after_text: Mapped[str] = mapped_column(Text)
    # A restore is a save too: the revision it brought back.
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("faq_revisions.id", ondelete="SET NULL"))


class DailyCount(Base):
    """How many of one thing happened on one Brussels day (questions answered, an entry shown): no person."""

    __tablename__ = "daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    # What is counted within the name: an FAQ entry's id, or "" when the name says it all.
    key: Mapped[str] = mapped_column(String(80), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
