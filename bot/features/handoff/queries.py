"""Talking to a person: the open requests, the staff, whose request a worker follows (reads only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.common.clock import BRUSSELS, as_utc
from bot.core.turn import Turn, display_name
from bot.features.handoff.common import STAFF_TICKET
from bot.storage.models import (
    Role,
    Ticket,
    TicketStatus,
    User,
)


def open_ticket_of(session: Session, user: User) -> Ticket | None:
    """Return the user's open ticket, if any."""
    return session.scalars(
        select(Ticket).where(Ticket.trainee_id == user.id, Ticket.status == TicketStatus.OPEN.value)
    ).one_or_none()


def open_tickets(session: Session) -> list[Ticket]:
    """Return every open ticket, oldest first."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.status == TicketStatus.OPEN.value)
            .order_by(Ticket.opened_at, Ticket.id)
        )
    )


def staff_members(session: Session) -> list[User]:
    """Return every registered social worker and admin."""
    return list(session.scalars(select(User).where(User.role != Role.TRAINEE.value).order_by(User.id)))


def state_of(user: User) -> str | None:
    """Return the dialogue state of another person than the sender."""
    return user.conversation.state if user.conversation is not None else None


def followed_ticket(turn: Turn) -> Ticket | None:
    """Return the open request the sending worker follows, None when there is none."""
    if turn.state != STAFF_TICKET or turn.user is None or turn.user.conversation is None:
        return None
    ticket_id = turn.user.conversation.data.get("ticket")
    ticket = turn.session.get(Ticket, ticket_id) if isinstance(ticket_id, int) else None
    if ticket is None or ticket.status != TicketStatus.OPEN.value or ticket.claimed_by_id != turn.user.id:
        return None
    return ticket


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    """Return a ticket as plain data for `cisp-bot tickets --json` (times in Brussels, with offset)."""
    trainee = ticket.trainee
    return {
        "id": ticket.id,
        "trainee": display_name(trainee),
        "filiere": trainee.filiere,
        "channel": trainee.channel,
        "subject": ticket.subject,
        "opened_at": as_utc(ticket.opened_at).astimezone(BRUSSELS).isoformat(),
        "status": "claimed" if ticket.claimed_by_id is not None else "waiting",
        "worker": display_name(ticket.worker) if ticket.worker is not None else None,
        "messages": len(ticket.messages),
    }


def count_open(session: Session) -> int:
    """Return how many tickets are open (for /stats)."""
    return int(
        session.scalar(select(func.count(Ticket.id)).where(Ticket.status == TicketStatus.OPEN.value)) or 0
    )
