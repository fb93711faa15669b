"""Talking to a person, the trainee's side: a subject, then messages passed on until the request is closed."""

from __future__ import annotations

import logging

from bot import texts
from bot.common.text import fold
from bot.core.feature import MENU_BUTTON
from bot.core.messages import Button, Reply
from bot.core.outbox import Attachment
from bot.core.turn import IDLE, Turn, display_name
from bot.features.faq import mask_personal_details
from bot.features.handoff.actions import alert_reply, alert_staff, close_ticket, push_to, set_state_of
from bot.features.handoff.common import (
    HANDOFF_SUBJECT,
    IN_TICKET,
    MAX_RELAYED_CHARS,
    MAX_SUBJECT_CHARS,
    STAFF_TICKET,
    TICKET_ARGUMENT,
    answer_timing,
    button,
    call_timing,
    request_retention,
    trainee_buttons,
)
from bot.features.handoff.queries import open_ticket_of, state_of
from bot.features.handoff.staff import claim, close_by_staff, follow, write_draft
from bot.features.intents import Intent, detect_intent
from bot.features.menu import INTRODUCE_BUTTON, main_menu
from bot.storage.models import (
    Ticket,
    TicketMessage,
    TicketStatus,
)

log = logging.getLogger(__name__)


def start(turn: Turn) -> list[Reply]:
    """Begin a request to talk to a person (menu button, FAQ fallback, or "je veux parler à ...")."""
    contact = texts.HANDOFF_OR_CALL.format(contact=turn.services.settings.centre_contact)
    if turn.user is None:
        return [Reply(texts.HANDOFF_NEEDS_ACCOUNT), Reply(contact, (INTRODUCE_BUTTON, MENU_BUTTON))]
    if turn.is_staff:
        return [Reply(texts.HANDOFF_STAFF_SELF, (MENU_BUTTON,))]
    if open_ticket_of(turn.session, turn.user) is not None:
        turn.set_state(IN_TICKET)
        return [Reply(texts.HANDOFF_ALREADY_OPEN, trainee_buttons())]
    turn.set_state(HANDOFF_SUBJECT)
    return [
        Reply(texts.HANDOFF_ASK_SUBJECT),
        Reply(texts.HANDOFF_ASK_SUBJECT_NEXT, (button("skip", texts.BUTTON_SKIP), MENU_BUTTON)),
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
        return [Reply(texts.HANDOFF_ALREADY_OPEN, trainee_buttons())]
    ticket = Ticket(
        trainee_id=user.id, status=TicketStatus.OPEN.value, subject=subject or None, opened_at=now
    )
    session.add(ticket)
    # The unique index on open tickets decides a race between two taps: the loser's transaction is
    # retried by the conversation and finds this ticket.
    session.flush()
    alert_staff(
        session,
        turn.services.settings,
        now,
        [alert_reply(session, ticket, user, now)],
        about=ticket,
        remember_ref=True,
        group_replies=[alert_reply(session, ticket, user, now, in_group=True)],
    )
    turn.set_state(IN_TICKET)
    log.info("ticket %d opened (%s)", ticket.id, user.channel)
    settings = turn.services.settings
    return [
        Reply(texts.HANDOFF_OPENED.format(name=display_name(user))),
        Reply(answer_timing(turn)),
        Reply(
            texts.HANDOFF_WRITE_HERE.format(ticket_retention=request_retention(settings)), trainee_buttons()
        ),
    ]


def open_call_request(turn: Turn, *, phone: str, reason: str) -> str:
    """Ask the staff to call the trainee back (instead of an appointment); say when they will call."""
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
        alert = alert_reply(session, ticket, user, now)
        in_group = alert_reply(session, ticket, user, now, in_group=True)
        alert_staff(
            session,
            turn.services.settings,
            now,
            [alert],
            about=ticket,
            remember_ref=True,
            group_replies=[in_group],
        )
        log.info("call-back request %d opened (%s)", ticket.id, user.channel)
    else:
        ticket.phone = phone
        note = texts.CALL_REQUEST_ADDED.format(name=display_name(user), id=ticket.id, phone=phone)
        if ticket.worker is not None:
            push_to(session, now, ticket.worker, [Reply(note)], about=ticket)
        else:
            alert_staff(session, turn.services.settings, now, [Reply(note)], about=ticket)
    return call_timing(turn)


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
    name = display_name(turn.user)
    if attachment is not None or message.attachment:
        caption = texts.TICKET_TRAINEE_FILE.format(name=name, id=ticket.id)
        if text:
            caption += f"\n« {text} »"
    else:
        caption = texts.TICKET_TRAINEE_SAYS.format(name=name, id=ticket.id, text=text or "")
    worker = ticket.worker
    if worker is not None:
        buttons = (button(f"close.{ticket.id}", texts.BUTTON_CLOSE),)
        push_to(
            turn.session, turn.now, worker, [Reply(caption, buttons)], about=ticket, attachment=attachment
        )
    else:
        waiting = texts.TICKET_NEW_MESSAGE.format(
            id=ticket.id, name=name, text=text or f"({message.attachment})"
        )
        claim = (button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),)
        alert_staff(turn.session, turn.services.settings, turn.now, [Reply(waiting, claim)], about=ticket)
    return [Reply(texts.HANDOFF_RELAYED, (button("back", texts.BUTTON_BACK_TO_BOT),))]


def _back_to_bot(turn: Turn) -> list[Reply]:
    turn.set_state(IDLE)
    return [Reply(texts.HANDOFF_BACK), main_menu(turn)]


def _cancel(turn: Turn) -> list[Reply]:
    assert turn.user is not None
    ticket = open_ticket_of(turn.session, turn.user)
    turn.set_state(IDLE)
    if ticket is None:
        return [Reply(texts.HANDOFF_NOT_OPEN), main_menu(turn)]
    close_ticket(turn.session, ticket, turn.now, closed_by="trainee")
    notice = [Reply(texts.TICKET_CANCELLED_BY_TRAINEE.format(name=display_name(turn.user), id=ticket.id))]
    if ticket.worker is not None:
        push_to(turn.session, turn.now, ticket.worker, notice, about=ticket)
        if state_of(ticket.worker) == STAFF_TICKET:
            set_state_of(ticket.worker, IDLE, turn.now)
    else:
        alert_staff(turn.session, turn.services.settings, turn.now, notice, about=ticket)
    return [Reply(texts.HANDOFF_CANCELLED), main_menu(turn)]


def _feedback(turn: Turn, ticket_id: int, verdict: str) -> list[Reply]:
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is None or turn.user is None or ticket.trainee_id != turn.user.id:
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if ticket.feedback is None:
        ticket.feedback = verdict
    return [Reply(texts.HANDOFF_FEEDBACK_THANKS), main_menu(turn)]


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
    if argument == "stay":
        if turn.state != IN_TICKET:
            return [Reply(texts.STALE_BUTTON), main_menu(turn)]
        return [Reply(texts.TICKET_STAY, (button("back", texts.BUTTON_BACK_TO_BOT),))]
    if argument == "cancel":
        return _cancel(turn)
    parsed = TICKET_ARGUMENT.fullmatch(argument)
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


# Words that mean "get me out of here", not a message for the worker.
_LEAVING_WORDS = frozenset(
    {"stop", "quitter", "sortir", "retour", "fin", "arreter", "exit", "quit", "annuler", "terminer", "finir"}
)


def relayed_or_none(turn: Turn) -> list[Reply] | None:
    """Pass the trainee's message on; None when the request was closed meanwhile (answered as usual).

    "menu", "aide", "stop" and the like are not passed on: the trainee is asked whether to leave.
    """
    if turn.text and (fold(turn.text) in _LEAVING_WORDS or detect_intent(turn.text) in _LEAVING_INTENTS):
        return [Reply(texts.TICKET_LEAVE_QUESTION, _leave_buttons())]
    return trainee_message(turn) or None


_LEAVING_INTENTS = (Intent.MENU, Intent.HELP)


def _leave_buttons() -> tuple[Button, ...]:
    return (
        button("back", texts.BUTTON_LEAVE_TICKET),
        button("stay", texts.BUTTON_STAY_IN_TICKET),
        button("cancel", texts.BUTTON_CANCEL_REQUEST),
    )
