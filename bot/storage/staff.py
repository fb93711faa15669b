"""Registering staff: social workers and admins, known by their platform id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Role, User


def add_staff(
    session: Session, channel: str, external_id: str, name: str, role: Role, now: datetime
) -> tuple[User, bool]:
    """Register or update a staff member; return the user and whether it was created."""
    if not role.is_staff:
        raise ValueError("staff role must be social_worker or admin")
    user = session.scalars(
        select(User).where(User.channel == channel, User.external_id == external_id)
    ).one_or_none()
    created = user is None
    if user is None:
        user = User(
            channel=channel,
            external_id=external_id,
            created_at=now,
            last_seen_at=now,
            notifications_paused=False,
        )
        session.add(user)
    user.role = role.value
    user.first_name = name
    session.flush()
    return user, created


def remove_staff(session: Session, channel: str, external_id: str) -> bool:
    """Remove a staff member entirely; return whether one was found."""
    user = session.scalars(
        select(User).where(
            User.channel == channel, User.external_id == external_id, User.role != Role.TRAINEE.value
        )
    ).one_or_none()
    if user is None:
        return False
    session.delete(user)
    return True


def list_staff(session: Session) -> list[User]:
    """Return every staff member, by name."""
    return list(
        session.scalars(
            select(User).where(User.role != Role.TRAINEE.value).order_by(User.first_name, User.id)
        )
    )
