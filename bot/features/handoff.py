"""Talking to a person: a trainee opens a request (a ticket), a social worker takes it, and the bot relays.

Trainee side: "Parler à quelqu'un" -> an optional one-line subject -> the ticket is open, the trainee is
told honestly when to expect an answer (office hours, Belgian holidays) and their messages go to the
ticket instead of the FAQ until they return to the bot.

Staff side: the staff group (or, without one, every staff member privately) gets an alert with a
"Je prends" button. The database decides who takes it (one conditional UPDATE: exactly one wins). The
worker then writes to the bot in private, or replies to the alert, and the bot passes the messages on,
signed with the worker's first name only. "Terminé" closes the ticket and asks the trainee whether it
helped; the worker may turn the answer into an FAQ draft for an admin to review.

Every push goes through the outbox (bot.core.outbox), in the same transaction as the ticket's change.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.feature import MENU_BUTTON, ButtonAction, Command, Feature, GoTarget, MenuEntry, StateStep
from bot.core.messages import Button, Reply
from bot.core.outbox import Attachment, enqueue
from bot.core.payloads import ButtonKind, go_button
from bot.core.turn import IDLE, Services, Turn
from bot.features import learning
from bot.features.faq import mask_personal_details
from bot.features.hours import OFFICE_HOURS
from bot.features.intents import Intent
from bot.features.menu import INTRODUCE_BUTTON, main_menu
from bot.features.onboarding import ASK_FILIERE, ASK_NAME
from bot.features.privacy import CONFIRM_FORGET
from bot.files.office_hours import OfficeHours
from bot.storage.models import (
    ConversationState,
    FaqMiss,
    JobRun,
    Role,
    Ticket,
    TicketMessage,
    TicketStatus,
    User,
)

log = logging.getLogger(__name__)

# A request to talk to a person: skip, back, cancel, claim.<id>, close.<id>, fb.<id>.up...
TICKET = ButtonKind(
    "tk", r"skip|back|cancel|(?:claim|close|draft|follow)\.\d{1,10}|fb\.\d{1,10}\.(?:up|down)"
)
# The trainee gives a subject, then writes to the request; the worker answers it.
HANDOFF_SUBJECT = "handoff_subject"
IN_TICKET = "in_ticket"
STAFF_TICKET = "staff_ticket"
MAX_SUBJECT_CHARS = 200
MAX_RELAYED_CHARS = 3500
# The questions the bot could not answer just before: the context a social worker needs first.
CONTEXT_QUESTIONS = 3
CONTEXT_WINDOW = timedelta(hours=24)
DRAFTS_DIR_NAME = "drafts"
CHANNEL_LABELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "console": "le terminal"}
_TICKET_ARGUMENT = re.compile(r"(claim|close|draft|follow)\.(\d+)|fb\.(\d+)\.(up|down)")


# ----------------------------------------------------------------------------------------- helpers


def _button(argument: str, title: str) -> Button:
    return TICKET.button(argument, title)


def _name(user: User | None) -> str:
    return (user.first_name if user is not None else None) or "Stagiaire"


def _filiere(user: User) -> str:
    return f" ({user.filiere})" if user.filiere else ""


def _when(moment: datetime, now: datetime) -> str:
    """Say when something happened, in Brussels time: "aujourd'hui à 14 h 05", "le 24/11 à 9 h 00"."""
    local, today = as_utc(moment).astimezone(BRUSSELS), as_utc(now).astimezone(BRUSSELS).date()
    clock = f"{local.hour} h {local.minute:02d}"
    if local.date() == today:
        return f"aujourd'hui à {clock}"
    if local.date() == today - timedelta(days=1):
        return f"hier à {clock}"
    return f"le {local:%d/%m} à {clock}"


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


def _staff_members(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role != Role.TRAINEE.value).order_by(User.id)))


def _alert_staff(
    session: Session,
    settings: Settings,
    now: datetime,
    replies: Sequence[Reply],
    *,
    about: Ticket,
    admins_too: bool = False,
    remember_ref: bool = False,
    skip: User | None = None,
) -> None:
    """Post to the staff group; without one, to every staff member privately (the console demo).

    ``skip`` is the staff member who caused the alert: they see the answer to their own action.
    """
    ticket_id = about.id if remember_ref else None
    group = settings.telegram_staff_chat_id
    if group is not None:
        enqueue(session, now, "telegram", str(group), replies, user_id=about.trainee_id, ticket_id=ticket_id)
    for member in _staff_members(session):
        if member is skip or (group is not None and not (admins_too and member.role == Role.ADMIN.value)):
            continue
        enqueue(session, now, member.channel, member.external_id, replies, user_id=about.trainee_id)


def _push_to(
    session: Session,
    now: datetime,
    user: User,
    replies: Sequence[Reply],
    *,
    about: Ticket,
    attachment: Attachment | None = None,
) -> None:
    enqueue(
        session,
        now,
        user.channel,
        user.external_id,
        replies,
        user_id=about.trainee_id,
        attachment=attachment,
    )


def _set_state_of(user: User, state: str, now: datetime, **data: Any) -> None:
    """Move another person than the sender to a state.

    A worker's answer makes the trainee's next message a reply to it.
    """
    if user.conversation is None:
        user.conversation = ConversationState(state=state, data=data, updated_at=now)
    else:
        user.conversation.state, user.conversation.data, user.conversation.updated_at = state, data, now


def _state_of(user: User) -> str | None:
    return user.conversation.state if user.conversation is not None else None


def _trainee_buttons() -> tuple[Button, ...]:
    return (_button("back", texts.BUTTON_BACK_TO_BOT), _button("cancel", texts.BUTTON_CANCEL_REQUEST))


def _timing(turn: Turn) -> str:
    hours = turn.services.get(OFFICE_HOURS)
    if hours is None:
        return texts.HANDOFF_NO_HOURS
    if hours.is_open(turn.now):
        return texts.HANDOFF_OPEN_NOW
    return texts.HANDOFF_CLOSED_NOW.format(when=hours.describe_next_opening(turn.now))


def _retention(settings: Settings) -> str:
    return texts.retention_text(settings.ticket_retention_days)


# ----------------------------------------------------------------------------------------- trainee


def start(turn: Turn) -> list[Reply]:
    """Begin a request to talk to a person (menu button, FAQ fallback, or "je veux parler à ...")."""
    contact = texts.HANDOFF_OR_CALL.format(contact=turn.services.settings.centre_contact)
    if turn.user is None:
        return [Reply(texts.HANDOFF_NEEDS_ACCOUNT), Reply(contact, (INTRODUCE_BUTTON, MENU_BUTTON))]
    if turn.is_staff:
        return [Reply(texts.HANDOFF_STAFF_SELF, (MENU_BUTTON,))]
    if open_ticket_of(turn.session, turn.user) is not None:
        turn.set_state(IN_TICKET)
        return [Reply(texts.HANDOFF_ALREADY_OPEN, _trainee_buttons())]
    turn.set_state(HANDOFF_SUBJECT)
    return [
        Reply(texts.HANDOFF_ASK_SUBJECT),
        Reply(texts.HANDOFF_ASK_SUBJECT_NEXT, (_button("skip", texts.BUTTON_SKIP), MENU_BUTTON)),
    ]


def receive_subject(turn: Turn) -> list[Reply]:
    """Open the ticket with the subject the trainee typed."""
    return _open(turn, mask_personal_details(turn.text)[:MAX_SUBJECT_CHARS])


def _open(turn: Turn, subject: str | None) -> list[Reply]:
    assert turn.user is not None
    user, session, now = turn.user, turn.session, turn.now
    existing = open_ticket_of(session, user)
    if existing is not None:
        turn.set_state(IN_TICKET)
        return [Reply(texts.HANDOFF_ALREADY_OPEN, _trainee_buttons())]
    ticket = Ticket(
        trainee_id=user.id, status=TicketStatus.OPEN.value, subject=subject or None, opened_at=now
    )
    session.add(ticket)
    # The unique index on open tickets decides a race between two taps: the loser's transaction is
    # retried by the conversation and finds this ticket.
    session.flush()
    _alert_staff(
        session,
        turn.services.settings,
        now,
        [_alert(session, ticket, user, now)],
        about=ticket,
        remember_ref=True,
    )
    turn.set_state(IN_TICKET)
    log.info("ticket %d opened (%s)", ticket.id, user.channel)
    settings = turn.services.settings
    return [
        Reply(texts.HANDOFF_OPENED.format(name=_name(user))),
        Reply(_timing(turn)),
        Reply(texts.HANDOFF_WRITE_HERE.format(ticket_retention=_retention(settings)), _trainee_buttons()),
    ]


def open_call_request(turn: Turn, *, phone: str, reason: str) -> list[Reply]:
    """Ask the staff to call the trainee back (instead of an appointment): a ticket with the number."""
    assert turn.user is not None
    user, session, now = turn.user, turn.session, turn.now
    subject = texts.CALL_REQUEST_SUBJECT.format(reason=reason) if reason else texts.CALL_REQUEST_SUBJECT_ONLY
    ticket = open_ticket_of(session, user)
    if ticket is None:
        ticket = Ticket(
            trainee_id=user.id, status=TicketStatus.OPEN.value, subject=subject, opened_at=now, phone=phone
        )
        session.add(ticket)
        session.flush()
        alert = _alert(session, ticket, user, now)
        _alert_staff(session, turn.services.settings, now, [alert], about=ticket, remember_ref=True)
        log.info("call-back request %d opened (%s)", ticket.id, user.channel)
    else:
        ticket.phone = phone
        note = texts.CALL_REQUEST_ADDED.format(name=_name(user), id=ticket.id, phone=phone)
        if ticket.worker is not None:
            _push_to(session, now, ticket.worker, [Reply(note)], about=ticket)
        else:
            _alert_staff(session, turn.services.settings, now, [Reply(note)], about=ticket)
    return [Reply(_timing(turn), (MENU_BUTTON,))]


def _alert(session: Session, ticket: Ticket, trainee: User, now: datetime) -> Reply:
    lines = [
        texts.TICKET_ALERT.format(
            id=ticket.id,
            name=_name(trainee),
            filiere=_filiere(trainee),
            channel=CHANNEL_LABELS.get(trainee.channel, trainee.channel),
            opened=_when(ticket.opened_at, now),
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
    lines.append(texts.TICKET_ALERT_HOW)
    return Reply("\n".join(lines), (_button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),))


def trainee_message(turn: Turn) -> list[Reply]:
    """Pass a trainee's message (text, voice note, photo, document) on to the ticket."""
    assert turn.user is not None
    ticket = open_ticket_of(turn.session, turn.user)
    if ticket is None:
        # Closed meanwhile (by the worker): the message goes to the bot as usual.
        turn.set_state(IDLE)
        return []
    message = turn.message
    text = turn.text[:MAX_RELAYED_CHARS] or None
    attachment = (
        Attachment(message.attachment, message.attachment_ref, message.channel)
        if message.attachment and message.attachment_ref
        else None
    )
    turn.session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="trainee",
            text=text,
            attachment=message.attachment,
            attachment_ref=message.attachment_ref,
            sent_at=turn.now,
        )
    )
    name = _name(turn.user)
    if attachment is not None or message.attachment:
        caption = texts.TICKET_TRAINEE_FILE.format(name=name, id=ticket.id)
        if text:
            caption += f"\n« {text} »"
    else:
        caption = texts.TICKET_TRAINEE_SAYS.format(name=name, id=ticket.id, text=text or "")
    worker = ticket.worker
    if worker is not None:
        buttons = (_button(f"close.{ticket.id}", texts.BUTTON_CLOSE),)
        _push_to(
            turn.session, turn.now, worker, [Reply(caption, buttons)], about=ticket, attachment=attachment
        )
    else:
        waiting = texts.TICKET_NEW_MESSAGE.format(
            id=ticket.id, name=name, text=text or f"({message.attachment})"
        )
        claim = (_button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),)
        _alert_staff(turn.session, turn.services.settings, turn.now, [Reply(waiting, claim)], about=ticket)
    return [Reply(texts.HANDOFF_RELAYED, (_button("back", texts.BUTTON_BACK_TO_BOT),))]


def _back_to_bot(turn: Turn) -> list[Reply]:
    turn.set_state(IDLE)
    return [Reply(texts.HANDOFF_BACK), main_menu(turn)]


def _cancel(turn: Turn) -> list[Reply]:
    assert turn.user is not None
    ticket = open_ticket_of(turn.session, turn.user)
    turn.set_state(IDLE)
    if ticket is None:
        return [Reply(texts.HANDOFF_NOT_OPEN), main_menu(turn)]
    _close(turn.session, ticket, turn.now, closed_by="trainee")
    notice = [Reply(texts.TICKET_CANCELLED_BY_TRAINEE.format(name=_name(turn.user), id=ticket.id))]
    if ticket.worker is not None:
        _push_to(turn.session, turn.now, ticket.worker, notice, about=ticket)
        if _state_of(ticket.worker) == STAFF_TICKET:
            _set_state_of(ticket.worker, IDLE, turn.now)
    else:
        _alert_staff(turn.session, turn.services.settings, turn.now, notice, about=ticket)
    return [Reply(texts.HANDOFF_CANCELLED), main_menu(turn)]


def _feedback(turn: Turn, ticket_id: int, verdict: str) -> list[Reply]:
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is None or turn.user is None or ticket.trainee_id != turn.user.id:
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if ticket.feedback is None:
        ticket.feedback = verdict
    return [Reply(texts.HANDOFF_FEEDBACK_THANKS), main_menu(turn)]


# ----------------------------------------------------------------------------------------- buttons


def on_button(turn: Turn, argument: str) -> list[Reply]:
    """Handle every ticket button, for trainees and staff; a forged or stale one gets a polite answer."""
    if turn.user is None:
        return [
            Reply(texts.STALE_BUTTON),
            Reply(texts.HANDOFF_NEEDS_ACCOUNT, (INTRODUCE_BUTTON, MENU_BUTTON)),
        ]
    if argument == "skip":
        if turn.state != HANDOFF_SUBJECT:
            return start(turn)
        return _open(turn, None)
    if argument == "back":
        return _back_to_bot(turn)
    if argument == "cancel":
        return _cancel(turn)
    parsed = _TICKET_ARGUMENT.fullmatch(argument)
    assert parsed is not None  # the payload's shape was checked by parse()
    if parsed.group(3) is not None:
        return _feedback(turn, int(parsed.group(3)), parsed.group(4))
    verb, ticket_id = parsed.group(1), int(parsed.group(2))
    if not turn.is_staff:
        log.warning("staff action %s refused to a trainee (%s)", verb, turn.message.channel)
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if verb == "claim":
        return claim(turn, ticket_id)
    if verb == "close":
        return close_by_staff(turn, ticket_id)
    if verb == "draft":
        return write_draft(turn, ticket_id)
    return follow(turn, ticket_id)


# ----------------------------------------------------------------------------------------- staff


def claim(turn: Turn, ticket_id: int) -> list[Reply]:
    """Take a ticket: one conditional UPDATE, so that of two workers pressing at once exactly one wins."""
    assert turn.user is not None
    worker, session, now = turn.user, turn.session, turn.now
    taken = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.status == TicketStatus.OPEN.value,
            Ticket.claimed_by_id.is_(None),
        )
        .values(claimed_by_id=worker.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return [Reply(texts.TICKET_UNKNOWN)]
    session.refresh(ticket)
    if not getattr(taken, "rowcount", 0):
        if ticket.status != TicketStatus.OPEN.value:
            return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket.id))]
        if ticket.claimed_by_id == worker.id:
            return _follow_replies(turn, ticket)
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=_name(ticket.worker)))]
    trainee = ticket.trainee
    log.info("ticket %d claimed", ticket.id)
    _push_to(session, now, trainee, [Reply(texts.HANDOFF_TAKEN.format(worker=_name(worker)))], about=ticket)
    claimed = texts.TICKET_CLAIMED.format(worker=_name(worker), id=ticket.id, name=_name(trainee))
    if ticket.alert_ref is not None and turn.services.settings.telegram_staff_chat_id is not None:
        # The alert shows who took it, and its button goes: nobody presses it again.
        alert = _alert(session, ticket, trainee, ticket.opened_at)
        marked = Reply(f"{alert.text}\n{texts.TICKET_CLAIMED_MARK.format(worker=_name(worker))}")
        group = str(turn.services.settings.telegram_staff_chat_id)
        enqueue(session, now, "telegram", group, [marked], user_id=trainee.id, edit=ticket.alert_ref)
    if turn.message.chat_id is not None:
        # Pressed in the staff group: everyone sees who took it there; the worker gets the details
        # in private, where the conversation with the trainee happens.
        _set_state_of(worker, STAFF_TICKET, now, ticket=ticket.id)
        enqueue(
            session,
            now,
            worker.channel,
            worker.external_id,
            _follow_replies(turn, ticket, set_state=False),
            user_id=trainee.id,
        )
        return [Reply(claimed)]
    _alert_staff(session, turn.services.settings, now, [Reply(claimed)], about=ticket, skip=worker)
    return _follow_replies(turn, ticket)


def _follow_replies(turn: Turn, ticket: Ticket, *, set_state: bool = True) -> list[Reply]:
    trainee = ticket.trainee
    if set_state:
        turn.set_state(STAFF_TICKET, ticket=ticket.id)
    lines = [texts.TICKET_YOURS.format(id=ticket.id, name=_name(trainee), filiere=_filiere(trainee))]
    if ticket.subject:
        lines.append(texts.TICKET_ALERT_SUBJECT.format(subject=ticket.subject))
    if ticket.phone:
        lines.append(texts.TICKET_ALERT_PHONE.format(phone=ticket.phone))
    for message in ticket.messages[-5:]:
        if message.author == "trainee":
            lines.append(f"« {message.text} »" if message.text else f"({message.attachment})")
    return [Reply("\n".join(lines), (_button(f"close.{ticket.id}", texts.BUTTON_CLOSE),))]


def follow(turn: Turn, ticket_id: int) -> list[Reply]:
    """Make one of the worker's tickets the one their next messages go to."""
    assert turn.user is not None
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != TicketStatus.OPEN.value:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket_id))]
    if ticket.claimed_by_id is None:
        return claim(turn, ticket_id)
    if ticket.claimed_by_id != turn.user.id:
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=_name(ticket.worker)))]
    return _follow_replies(turn, ticket)


def _followed_ticket(turn: Turn) -> Ticket | None:
    if turn.state != STAFF_TICKET or turn.user is None or turn.user.conversation is None:
        return None
    ticket_id = turn.user.conversation.data.get("ticket")
    ticket = turn.session.get(Ticket, ticket_id) if isinstance(ticket_id, int) else None
    if ticket is None or ticket.status != TicketStatus.OPEN.value or ticket.claimed_by_id != turn.user.id:
        return None
    return ticket


def staff_message(turn: Turn) -> list[Reply]:
    """Relay what a worker writes in private to the trainee of the ticket they follow."""
    ticket = _followed_ticket(turn)
    if ticket is None:
        turn.set_state(IDLE)
        return [Reply(texts.TICKET_NONE_FOLLOWED, (_button_tickets(),))]
    return _relay_to_trainee(turn, ticket)


def reply_in_group(turn: Turn, alert_ref: str) -> list[Reply]:
    """Relay a worker's reply to a ticket alert in the staff group (taking the ticket if nobody has)."""
    assert turn.user is not None
    ticket = turn.session.scalars(select(Ticket).where(Ticket.alert_ref == alert_ref)).first()
    if ticket is None:
        return []  # a reply to another message of the bot: not for a trainee
    if ticket.status != TicketStatus.OPEN.value:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket.id))]
    if ticket.claimed_by_id is None:
        claimed = claim(turn, ticket.id)
        turn.session.refresh(ticket)
        if ticket.claimed_by_id != turn.user.id:
            return claimed
    elif ticket.claimed_by_id != turn.user.id:
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=_name(ticket.worker)))]
    return _relay_to_trainee(turn, ticket)


def _relay_to_trainee(turn: Turn, ticket: Ticket) -> list[Reply]:
    assert turn.user is not None
    worker, message, now = turn.user, turn.message, turn.now
    text = turn.text[:MAX_RELAYED_CHARS] or None
    attachment = (
        Attachment(message.attachment, message.attachment_ref, message.channel)
        if message.attachment and message.attachment_ref
        else None
    )
    if text is None and attachment is None:
        return [Reply(texts.EMPTY_MESSAGE)]
    turn.session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="staff",
            staff_id=worker.id,
            text=text,
            attachment=message.attachment,
            attachment_ref=message.attachment_ref,
            sent_at=now,
        )
    )
    trainee = ticket.trainee
    if attachment is not None:
        body = texts.HANDOFF_FROM_WORKER_FILE.format(worker=_name(worker))
        if text:
            body += f"\n{text}"
    else:
        body = texts.HANDOFF_FROM_WORKER.format(worker=_name(worker), text=text)
    buttons = (_button("back", texts.BUTTON_BACK_TO_BOT),)
    _push_to(turn.session, now, trainee, [Reply(body, buttons)], about=ticket, attachment=attachment)
    # The trainee's next message answers the worker, wherever they were in the bot.
    if _state_of(trainee) not in (ASK_NAME, ASK_FILIERE, CONFIRM_FORGET):
        _set_state_of(trainee, IN_TICKET, now)
    return [
        Reply(
            texts.TICKET_SENT.format(name=_name(trainee)),
            (_button(f"close.{ticket.id}", texts.BUTTON_CLOSE),),
        )
    ]


def _close(session: Session, ticket: Ticket, now: datetime, *, closed_by: str) -> None:
    ticket.status = TicketStatus.CLOSED.value
    ticket.closed_at = now
    ticket.closed_by = closed_by


def close_by_staff(turn: Turn, ticket_id: int) -> list[Reply]:
    """Close a ticket (its worker, or an admin); ask the trainee whether it helped."""
    assert turn.user is not None
    worker, session, now = turn.user, turn.session, turn.now
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return [Reply(texts.TICKET_UNKNOWN)]
    if ticket.status != TicketStatus.OPEN.value:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket.id))]
    if ticket.claimed_by_id not in (None, worker.id) and worker.role != Role.ADMIN.value:
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=_name(ticket.worker)))]
    _close(session, ticket, now, closed_by="staff")
    log.info("ticket %d closed by staff", ticket.id)
    trainee = ticket.trainee
    feedback = (
        _button(f"fb.{ticket.id}.up", texts.BUTTON_HELPED_YES),
        _button(f"fb.{ticket.id}.down", texts.BUTTON_HELPED_NO),
        MENU_BUTTON,
    )
    _push_to(
        session,
        now,
        trainee,
        [
            Reply(texts.HANDOFF_CLOSED_BY_WORKER.format(worker=_name(worker))),
            Reply(texts.HANDOFF_FEEDBACK_QUESTION, feedback),
        ],
        about=ticket,
    )
    if _state_of(trainee) == IN_TICKET:
        _set_state_of(trainee, IDLE, now)
    if turn.state == STAFF_TICKET:
        turn.set_state(IDLE)
    if turn.services.settings.telegram_staff_chat_id is not None:
        done = texts.TICKET_CLOSED_GROUP.format(id=ticket.id, name=_name(trainee), worker=_name(worker))
        _alert_staff(session, turn.services.settings, now, [Reply(done)], about=ticket)
    buttons = [_button_tickets()]
    if any(message.author == "staff" and message.text for message in ticket.messages):
        buttons.insert(0, _button(f"draft.{ticket.id}", texts.BUTTON_DRAFT))
    closed = texts.TICKET_CLOSED_STAFF.format(id=ticket.id)
    # The worker knows best whether an FAQ entry answered the subject: one tap teaches it to the bot.
    offer = learning.ticket_offer(turn, ticket)
    if offer is not None:
        return [Reply(f"{closed}\n{offer.text}", (*offer.buttons, *buttons))]
    return [Reply(closed, tuple(buttons))]


def _button_tickets() -> Button:
    return go_button("tickets", texts.BUTTON_TICKETS)


def list_tickets(turn: Turn) -> list[Reply]:
    """Show staff the open tickets, with a button to take or follow each (in private)."""
    tickets = open_tickets(turn.session)
    if not tickets:
        return [Reply(texts.TICKET_LIST_EMPTY)]
    lines = [texts.TICKET_LIST_TITLE]
    buttons: list[Button] = []
    for ticket in tickets:
        lines.append(_list_line(ticket, turn.now))
        if turn.message.chat_id is not None or len(buttons) >= 8:
            continue
        if ticket.claimed_by_id is None:
            buttons.append(
                _button(f"claim.{ticket.id}", f"✋ Prendre n°{ticket.id} ({_name(ticket.trainee)})")
            )
        elif turn.user is not None and ticket.claimed_by_id == turn.user.id:
            buttons.append(
                _button(f"follow.{ticket.id}", f"💬 Écrire à {_name(ticket.trainee)} (n°{ticket.id})")
            )
    return [Reply("\n".join(lines), tuple(buttons))]


def _list_line(ticket: Ticket, now: datetime) -> str:
    trainee = ticket.trainee
    who = (
        texts.TICKET_WAITING
        if ticket.worker is None
        else texts.TICKET_FOLLOWED_BY.format(worker=_name(ticket.worker))
    )
    return texts.TICKET_LIST_LINE.format(
        id=ticket.id,
        name=_name(trainee),
        filiere=_filiere(trainee),
        channel=CHANNEL_LABELS.get(trainee.channel, trainee.channel),
        opened=_when(ticket.opened_at, now).removeprefix("le "),
        who=who,
    )


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    """Return a ticket as plain data for `cisp-bot tickets --json` (times in Brussels, with offset)."""
    trainee = ticket.trainee
    return {
        "id": ticket.id,
        "trainee": _name(trainee),
        "filiere": trainee.filiere,
        "channel": trainee.channel,
        "subject": ticket.subject,
        "opened_at": as_utc(ticket.opened_at).astimezone(BRUSSELS).isoformat(),
        "status": "claimed" if ticket.claimed_by_id is not None else "waiting",
        "worker": _name(ticket.worker) if ticket.worker is not None else None,
        "messages": len(ticket.messages),
    }


# ----------------------------------------------------------------------------------------- drafts


def write_draft(turn: Turn, ticket_id: int) -> list[Reply]:
    """Write the worker's answer as an FAQ draft under FAQ_DIR/drafts/, for an admin to review."""
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is None:
        return [Reply(texts.TICKET_UNKNOWN)]
    answers = [m.text for m in ticket.messages if m.author == "staff" and m.text]
    if not answers:
        return [Reply(texts.TICKET_DRAFT_EMPTY)]
    questions = [m.text for m in ticket.messages if m.author == "trainee" and m.text]
    question = ticket.subject or (questions[0] if questions else "")
    directory = turn.services.settings.faq_dir / DRAFTS_DIR_NAME
    path = _write_draft_file(directory, ticket.id, question, answers, _name(turn.user), turn.now)
    log.info("FAQ draft written for ticket %d", ticket.id)
    shown = (
        path.relative_to(turn.services.settings.faq_dir.parent)
        if path.is_relative_to(turn.services.settings.faq_dir.parent)
        else path
    )
    return [Reply(texts.TICKET_DRAFT_WRITTEN.format(path=shown))]


def _write_draft_file(
    directory: Path, ticket_id: int, question: str, answers: Sequence[str], author: str, now: datetime
) -> Path:
    # Names, phone numbers and e-mail addresses must not end up in a public FAQ: the masking catches the
    # numbers and addresses; the admin's review catches the rest (the header says so).
    entry = {
        "id": f"brouillon-demande-{ticket_id}",
        "question": mask_personal_details(question)[:MAX_SUBJECT_CHARS] or "À compléter",
        "alternatives": [],
        "answer": mask_personal_details("\n".join(answers)),
    }
    header = (
        f"# Brouillon tiré de la demande n°{ticket_id}, écrit le {now.astimezone(BRUSSELS):%d/%m/%Y} "
        f"par {author}.\n"
        "# À relire : enlevez les noms et les détails personnels, reformulez la question, ajoutez des\n"
        "# alternatives, puis déplacez le fichier dans le dossier de la FAQ (il est ignoré ici).\n"
    )
    text = header + yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=100)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"demande-{ticket_id}.yaml"
    # Written whole or not at all: the admin never opens half a file.
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
    return path


# ----------------------------------------------------------------------------------------- jobs


def escalate_unclaimed(session: Session, settings: Settings, hours: OfficeHours | None, now: datetime) -> int:
    """Alert the group again, and the admins, about tickets unclaimed after N minutes of office hours."""
    minutes = settings.handoff_escalation_minutes
    count = 0
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.status == TicketStatus.OPEN.value,
            Ticket.claimed_by_id.is_(None),
            Ticket.escalated_at.is_(None),
        )
    ):
        waited = (
            hours.open_minutes_between(ticket.opened_at, now)
            if hours is not None
            else (now - ticket.opened_at).total_seconds() / 60
        )
        if waited < minutes:
            continue
        ticket.escalated_at = now
        text = texts.TICKET_ESCALATED.format(id=ticket.id, name=_name(ticket.trainee), minutes=minutes)
        claim_button = (_button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),)
        _alert_staff(session, settings, now, [Reply(text, claim_button)], about=ticket, admins_too=True)
        count += 1
    if count:
        log.info("%d unclaimed tickets escalated", count)
    return count


def summarise_day(session: Session, settings: Settings, hours: OfficeHours | None, now: datetime) -> bool:
    """After the day's closing time, post the open tickets in the staff group, once per day."""
    if hours is None:
        return False
    today = as_utc(now).astimezone(BRUSSELS).date()
    closing = hours.closing_time(today)
    if closing is None or now < closing:
        return False
    period = today.isoformat()
    if session.get(JobRun, ("daily-summary", period)) is not None:
        return False
    session.add(JobRun(job="daily-summary", period=period, done_at=now))
    # Two processes racing: the primary key lets one insert; the other's transaction fails and rolls back.
    session.flush()
    tickets = open_tickets(session)
    if tickets:
        lines = [texts.TICKET_DAY_SUMMARY.format(count=len(tickets))]
        lines += [_list_line(ticket, now) for ticket in tickets]
    else:
        lines = [texts.TICKET_DAY_SUMMARY_NONE]
    trainees = select(User).where(User.role == Role.TRAINEE.value)
    unreachable = session.scalars(trainees.where(User.unreachable_at.is_not(None)).order_by(User.id)).all()
    if unreachable:
        lines.append(texts.UNREACHABLE_TITLE)
        lines += [
            texts.UNREACHABLE_LINE.format(
                name=_name(user),
                filiere=_filiere(user),
                channel=CHANNEL_LABELS.get(user.channel, user.channel),
                since=_when(user.unreachable_at, now) if user.unreachable_at else "",
            )
            for user in unreachable
        ]
    summary = Reply("\n".join(lines))
    group = settings.telegram_staff_chat_id
    if group is not None:
        enqueue(session, now, "telegram", str(group), [summary])
    else:
        for member in _staff_members(session):
            enqueue(session, now, member.channel, member.external_id, [summary])
    return True


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


def count_open(session: Session) -> int:
    """Return how many tickets are open (for /stats)."""
    return int(
        session.scalar(select(func.count(Ticket.id)).where(Ticket.status == TicketStatus.OPEN.value)) or 0
    )


def _relayed_or_none(turn: Turn) -> list[Reply] | None:
    """Pass the trainee's message on; None when the request was closed meanwhile (answered as usual)."""
    return trainee_message(turn) or None


def _escalate(session: Session, services: Services, now: datetime) -> None:
    escalate_unclaimed(session, services.settings, services.get(OFFICE_HOURS), now)


def _summarise(session: Session, services: Services, now: datetime) -> None:
    summarise_day(session, services.settings, services.get(OFFICE_HOURS), now)


def _purge_closed(session: Session, services: Services, now: datetime) -> None:
    purge_closed(session, now, services.settings.ticket_retention_days)


FEATURE = Feature(
    name="handoff",
    commands={"tickets": Command(lambda turn, _rest: list_tickets(turn), staff=True)},
    buttons=[ButtonAction(TICKET, on_button, in_staff_group=True)],
    states={
        HANDOFF_SUBJECT: StateStep(receive_subject, "vous alliez dire le sujet de votre demande"),
        IN_TICKET: StateStep(_relayed_or_none, "vous écrivez à une personne de l'équipe", every_message=True),
        STAFF_TICKET: StateStep(staff_message, "vous répondez à une demande", every_message=True),
    },
    go={"person": GoTarget(start), "tickets": GoTarget(list_tickets, staff=True)},
    menu=[MenuEntry("person", texts.BUTTON_PERSON, order=40, anonymous=True)],
    intents={Intent.PERSON.value: start},
    jobs={"escalations": _escalate, "day summary": _summarise},
    purges=[_purge_closed],
    group_reply=reply_in_group,
)
