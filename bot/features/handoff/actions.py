"""Talking to a person: what a request writes and tells (alerts to the staff, relays, closing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.config import Settings
from bot.core.messages import Reply
from bot.core.outbox import Attachment, enqueue
from bot.core.turn import display_name
from bot.features.handoff.common import (
    CONTEXT_QUESTIONS,
    CONTEXT_WINDOW,
    button,
    filiere_of,
    spoken_when,
)
from bot.features.handoff.queries import staff_members
from bot.storage.models import (
    ConversationState,
    FaqMiss,
    Role,
    Ticket,
    TicketStatus,
    User,
)


def alert_staff(
    session: Session,
    settings: Settings,
    now: datetime,
    replies: Sequence[Reply],
    *,
    about: Ticket,
    admins_too: bool = False,
    remember_ref: bool = False,
    skip: User | None = None,
    group_replies: Sequence[Reply] | None = None,
) -> None:
    """Post to the staff group; without one, to every staff member privately (the console demo).

    ``skip`` is the staff member who caused the alert: they see the answer to their own action.
    ``group_replies``: what the group reads instead (where a reply to the alert reaches the trainee).
    """
    ticket_id = about.id if remember_ref else None
    group = settings.staff_group
    if group is not None:
        in_group = group_replies if group_replies is not None else replies
        enqueue(session, now, *group, in_group, user_id=about.trainee_id, ticket_id=ticket_id)
    for member in staff_members(session):
        if member is skip or (group is not None and not (admins_too and member.role == Role.ADMIN.value)):
            continue
        enqueue(session, now, member.channel, member.external_id, replies, user_id=about.trainee_id)


def push_to(
    session: Session,
    now: datetime,
    user: User,
    replies: Sequence[Reply],
    *,
    about: Ticket,
    attachment: Attachment | None = None,
) -> None:
    """Write a message to a person of a request (trainee or worker) in the outbox."""
    enqueue(
        session,
        now,
        user.channel,
        user.external_id,
        replies,
        user_id=about.trainee_id,
        attachment=attachment,
    )


def set_state_of(user: User, state: str, now: datetime, **data: Any) -> None:
    """Move another person than the sender to a state.

    A worker's answer makes the trainee's next message a reply to it.
    """
    if user.conversation is None:
        user.conversation = ConversationState(state=state, data=data, updated_at=now)
    else:
        user.conversation.state, user.conversation.data, user.conversation.updated_at = state, data, now


def alert_reply(
    session: Session, ticket: Ticket, trainee: User, now: datetime, *, in_group: bool = False
) -> Reply:
    """Return the staff's alert of a new request: who, the subject, their last questions, a button.

    in_group: for the staff group, where answering the alert itself reaches the trainee.
    """
    lines = [
        texts.TICKET_ALERT.format(
            id=ticket.id,
            name=display_name(trainee),
            filiere=filiere_of(trainee),
            channel=texts.CHANNEL_NAMES.get(trainee.channel, trainee.channel),
            opened=spoken_when(ticket.opened_at, now),
        )
    ]
    if ticket.subject:
        lines.append(texts.TICKET_ALERT_SUBJECT.format(subject=ticket.subject))
    if ticket.phone:
        lines.append(texts.TICKET_ALERT_PHONE.format(phone=ticket.phone))
    recent = session.scalars(
        select(FaqMiss.question)
        .where(FaqMiss.user_id == trainee.id, FaqMiss.asked_at >= now - CONTEXT_WINDOW)
        .order_by(FaqMiss.asked_at.desc())
        .limit(CONTEXT_QUESTIONS)
    ).all()
    if recent:
        lines.append(texts.TICKET_ALERT_CONTEXT)
        lines += [f"« {question} »" for question in reversed(recent)]
    lines.append(texts.TICKET_ALERT_HOW_GROUP if in_group else texts.TICKET_ALERT_HOW)
    return Reply("\n".join(lines), (button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),))


def close_ticket(session: Session, ticket: Ticket, now: datetime, *, closed_by: str) -> None:
    """Mark a request closed, by whom, now."""
    ticket.status = TicketStatus.CLOSED.value
    ticket.closed_at = now
    ticket.closed_by = closed_by


def purge_closed(session: Session, now: datetime, retention_days: int) -> int:
    """Erase tickets closed longer ago than their retention period; return how many."""
    from sqlalchemy import delete

    result = session.execute(
        delete(Ticket)
        .where(
            Ticket.status == TicketStatus.CLOSED.value,
            Ticket.closed_at < now - timedelta(days=retention_days),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
