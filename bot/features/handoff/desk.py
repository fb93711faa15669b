"""What a social worker does with a request, from any front end (the chat, the console): take, answer, close.

Each is a function over a unit of work: the chat's staff steps and the console's pages call the same
ones, so a trainee reads the same words whichever the worker used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import texts
from bot.config import Settings
from bot.core.feature import MENU_BUTTON
from bot.core.messages import Reply
from bot.core.outbox import Attachment, enqueue
from bot.core.turn import IDLE, Turn, display_name
from bot.features.handoff.actions import alert_reply, alert_staff, close_ticket, push_to, set_state_of
from bot.features.handoff.common import IN_TICKET, MAX_RELAYED_CHARS, button
from bot.features.handoff.queries import state_of
from bot.features.onboarding import ASK_FILIERE, ASK_NAME
from bot.features.privacy import CONFIRM_FORGET
from bot.storage.models import Role, Ticket, TicketMessage, TicketStatus, User

log = logging.getLogger(__name__)


class Taking(StrEnum):
    """What taking a request did."""

    TAKEN = "taken"
    ALREADY_YOURS = "already_yours"
    TAKEN_BY_OTHER = "taken_by_other"
    NOT_OPEN = "not_open"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Taken:
    """The outcome of taking a request, with the request when there is one."""

    outcome: Taking
    ticket: Ticket | None = None


def take(session: Session, settings: Settings, now: datetime, worker: User, ticket_id: int) -> Taken:
    """Take a request: one conditional UPDATE, so that of two workers at once exactly one wins.

    The trainee is told who took it; the staff group's alert shows it and loses its button; without a
    group, the other staff members are told.
    """
    won = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id, Ticket.status == TicketStatus.OPEN.value, Ticket.claimed_by_id.is_(None)
        )
        .values(claimed_by_id=worker.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return Taken(Taking.UNKNOWN)
    session.refresh(ticket)
    if not getattr(won, "rowcount", 0):
        if ticket.status != TicketStatus.OPEN.value:
            return Taken(Taking.NOT_OPEN, ticket)
        if ticket.claimed_by_id == worker.id:
            return Taken(Taking.ALREADY_YOURS, ticket)
        return Taken(Taking.TAKEN_BY_OTHER, ticket)
    trainee = ticket.trainee
    log.info("ticket %d claimed", ticket.id)
    push_to(
        session, now, trainee, [Reply(texts.HANDOFF_TAKEN.format(worker=display_name(worker)))], about=ticket
    )
    group = settings.staff_group
    if ticket.alert_ref is not None and group is not None:
        # The alert shows who took it, and its button goes: nobody presses it again.
        alert = alert_reply(session, ticket, trainee, ticket.opened_at, in_group=True)
        marked = Reply(f"{alert.text}\n{texts.TICKET_CLAIMED_MARK.format(worker=display_name(worker))}")
        enqueue(session, now, *group, [marked], user_id=trainee.id, edit=ticket.alert_ref)
    return Taken(Taking.TAKEN, ticket)


def tell_others_taken(
    session: Session, settings: Settings, now: datetime, worker: User, ticket: Ticket
) -> None:
    """Tell the rest of the staff that the worker took the request (in the group, or to each of them)."""
    claimed = texts.TICKET_CLAIMED.format(
        worker=display_name(worker), id=ticket.id, name=display_name(ticket.trainee)
    )
    alert_staff(session, settings, now, [Reply(claimed)], about=ticket, skip=worker)


def answer(
    session: Session,
    now: datetime,
    ticket: Ticket,
    worker: User,
    text: str | None,
    attachment: Attachment | None = None,
    *,
    attachment_kind: str | None = None,
) -> bool:
    """Pass a worker's message (or file) on to the trainee, signed with the worker's first name.

    Return False when there is nothing to pass on. The trainee's next message answers the worker.
    """
    text = (text or "")[:MAX_RELAYED_CHARS].strip() or None
    if text is None and attachment is None:
        return False
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="staff",
            staff_id=worker.id,
            text=text,
            attachment=attachment_kind,
            attachment_ref=attachment.ref if attachment else None,
            sent_at=now,
        )
    )
    trainee = ticket.trainee
    if attachment is not None:
        body = texts.HANDOFF_FROM_WORKER_FILE.format(worker=display_name(worker))
        if text:
            body += f"\n{text}"
    else:
        body = texts.HANDOFF_FROM_WORKER.format(worker=display_name(worker), text=text)
    buttons = (button("back", texts.BUTTON_BACK_TO_BOT),)
    push_to(session, now, trainee, [Reply(body, buttons)], about=ticket, attachment=attachment)
    if state_of(trainee) not in (ASK_NAME, ASK_FILIERE, CONFIRM_FORGET):
        set_state_of(trainee, IN_TICKET, now)
    return True


def may_close(ticket: Ticket, worker: User) -> bool:
    """Say whether the worker may close the request: theirs, nobody's yet, or any for an admin."""
    return ticket.claimed_by_id in (None, worker.id) or worker.role == Role.ADMIN.value


def close(session: Session, settings: Settings, now: datetime, ticket: Ticket, worker: User) -> None:
    """Close an open request: the trainee is told and asked whether it helped; the staff group hears it."""
    close_ticket(session, ticket, now, closed_by="staff")
    log.info("ticket %d closed by staff", ticket.id)
    trainee = ticket.trainee
    feedback = (
        button(f"fb.{ticket.id}.up", texts.BUTTON_HELPED_YES),
        button(f"fb.{ticket.id}.down", texts.BUTTON_HELPED_NO),
        MENU_BUTTON,
    )
    push_to(
        session,
        now,
        trainee,
        [
            Reply(texts.HANDOFF_CLOSED_BY_WORKER.format(worker=display_name(worker))),
            Reply(texts.HANDOFF_FEEDBACK_QUESTION, feedback),
        ],
        about=ticket,
    )
    if state_of(trainee) == IN_TICKET:
        set_state_of(trainee, IDLE, now)
    if settings.staff_group is not None:
        done = texts.TICKET_CLOSED_GROUP.format(
            id=ticket.id, name=display_name(trainee), worker=display_name(worker)
        )
        alert_staff(session, settings, now, [Reply(done)], about=ticket)


def relay_to_trainee(turn: Turn, ticket: Ticket) -> list[Reply]:
    """Pass a worker's message (or file) on to the trainee of the request they follow."""
    assert turn.user is not None
    message = turn.message
    attachment = (
        Attachment(message.attachment, message.attachment_ref, message.channel)
        if message.attachment and message.attachment_ref
        else None
    )
    if not answer(
        turn.session, turn.now, ticket, turn.user, turn.text, attachment, attachment_kind=message.attachment
    ):
        return [Reply(texts.EMPTY_MESSAGE)]
    return [
        Reply(
            texts.TICKET_SENT.format(name=display_name(ticket.trainee)),
            (button(f"close.{ticket.id}", texts.BUTTON_CLOSE),),
        )
    ]
