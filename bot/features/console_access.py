"""Staff console access: one-time login links, sessions and refused logins (what the web console calls).

A staff member asks the bot (/console) or an admin runs `cisp-bot staff login-link NAME`; the link opens
a session once, within LINK_MINUTES. Only hashes of the keys are stored: a copy of the database lets no
one in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot import texts
from bot.common.text import fold
from bot.config import Settings
from bot.core.feature import Command, Feature
from bot.core.messages import Reply
from bot.core.personal import PersonalTable, show_date_time
from bot.core.turn import Services, Turn
from bot.storage.models import ConsoleAttempt, ConsoleLink, ConsoleSession, Role, User

log = logging.getLogger(__name__)

LINK_MINUTES = 10
# A working day: a social worker logs in in the morning and is not asked again before the evening.
SESSION_HOURS = 10
# Refused logins per source within ATTEMPT_WINDOW before the next one is refused outright.
MAX_ATTEMPTS = 10
ATTEMPT_WINDOW = timedelta(minutes=10)
# The console's own path, under the webhooks' address.
CONSOLE_PATH = "/console"
LOGIN_PATH = CONSOLE_PATH + "/entrer"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def console_address(settings: Settings) -> str:
    """Return the console's address: under PUBLIC_URL, else on this machine at HOST:PORT."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + CONSOLE_PATH
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host
    return f"http://{host}:{settings.port}{CONSOLE_PATH}"


def create_login_link(session: Session, user: User, now: datetime, settings: Settings) -> str:
    """Return a new one-time login address for a staff member, valid LINK_MINUTES."""
    if not Role(user.role).is_staff:
        raise ValueError("only staff members get a console link")
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(minutes=LINK_MINUTES)
    session.add(ConsoleLink(token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=expires))
    session.flush()
    log.info("console link made for staff member %d", user.id)
    address = console_address(settings).removesuffix(CONSOLE_PATH)
    return f"{address}{LOGIN_PATH}?cle={token}"


def staff_named(session: Session, name: str) -> list[User]:
    """Return the staff members of this first name (case and accents aside), by id."""
    wanted = fold(name)
    staff = session.scalars(select(User).where(User.role != Role.TRAINEE.value).order_by(User.id))
    return [user for user in staff if fold(user.first_name or "") == wanted]


def usable_link(session: Session, token: str, now: datetime) -> ConsoleLink | None:
    """Return the link of this key when it is unused, unexpired and its staff member still staff."""
    link = session.scalars(select(ConsoleLink).where(ConsoleLink.token_hash == _hash(token))).one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    user = session.get(User, link.user_id)
    if user is None or not Role(user.role).is_staff:
        return None
    return link


@dataclass(frozen=True)
class OpenedSession:
    """A console session just opened: the key for the cookie, and who it is."""

    token: str
    user_id: int
    expires_at: datetime


def redeem_link(session: Session, token: str, now: datetime) -> OpenedSession | None:
    """Use a login key once: open a session, or return None when the key is not (or no longer) valid."""
    link = usable_link(session, token, now)
    if link is None:
        return None
    # One conditional UPDATE: of two requests with the same link at once (two processes), one wins.
    won = session.execute(
        update(ConsoleLink)
        .where(ConsoleLink.id == link.id, ConsoleLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(won, "rowcount", 0):
        return None
    session_token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=SESSION_HOURS)
    session.add(
        ConsoleSession(
            token_hash=_hash(session_token),
            user_id=link.user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    log.info("console session opened for staff member %d", link.user_id)
    return OpenedSession(session_token, link.user_id, expires)


def session_of(session: Session, token: str, now: datetime) -> tuple[ConsoleSession, User] | None:
    """Return the live session of this cookie key and its staff member, or None."""
    found = session.scalars(
        select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token))
    ).one_or_none()
    if found is None or found.expires_at <= now:
        return None
    user = session.get(User, found.user_id)
    if user is None or not Role(user.role).is_staff:
        return None
    return found, user


def end_session(session: Session, token: str) -> None:
    """End the session of this cookie key (logging out), in every process."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))


def too_many_attempts(session: Session, source: str, now: datetime) -> bool:
    """Say whether this source had MAX_ATTEMPTS refused logins within the window."""
    count = session.scalar(
        select(func.count())
        .select_from(ConsoleAttempt)
        .where(ConsoleAttempt.source_hash == source, ConsoleAttempt.at > now - ATTEMPT_WINDOW)
    )
    return (count or 0) >= MAX_ATTEMPTS


def note_refused_attempt(session: Session, source: str, now: datetime) -> None:
    """Count a refused login of this source (a keyed hash of its address)."""
    session.add(ConsoleAttempt(source_hash=source, at=now))
    log.warning("console login refused (unknown, used or expired link)")


def purge_console(session: Session, _services: Services, now: datetime) -> None:
    """Forget ended sessions, links past their time and refused logins older than an hour."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    session.execute(delete(ConsoleLink).where(ConsoleLink.expires_at <= now - timedelta(hours=1)))
    session.execute(delete(ConsoleAttempt).where(ConsoleAttempt.at <= now - timedelta(hours=1)))


def console_link(turn: Turn, _rest: str) -> list[Reply]:
    """Send a staff member a one-time link to the console."""
    assert turn.user is not None  # a staff command: the sender is registered staff
    if turn.message.chat_id is not None:
        return [Reply(texts.CONSOLE_LINK_NOT_IN_GROUP)]  # the link is a key: never in a group
    address = create_login_link(turn.session, turn.user, turn.now, turn.services.settings)
    return [Reply(texts.CONSOLE_LINK.format(address=address, minutes=LINK_MINUTES))]


CONSOLE_LINKS = PersonalTable(
    "console_links",
    {
        "created_at": ("Lien vers la console demandé le", show_date_time),
        "expires_at": ("Valable jusqu'au", show_date_time),
        "used_at": ("Utilisé le", show_date_time),
    },
    internal=frozenset({"id", "token_hash", "user_id"}),
)
CONSOLE_SESSIONS = PersonalTable(
    "console_sessions",
    {
        "created_at": ("Connecté·e à la console le", show_date_time),
        "expires_at": ("Jusqu'au", show_date_time),
    },
    internal=frozenset({"id", "token_hash", "user_id", "csrf_token"}),
)

FEATURE = Feature(
    name="console_access",
    commands={"console": Command(console_link, staff=True)},
    purges=(purge_console,),
    personal_tables=(CONSOLE_LINKS, CONSOLE_SESSIONS),
    # Hashes of addresses, never linked to a person, gone within the hour.
    other_tables=frozenset({"console_attempts"}),
)
