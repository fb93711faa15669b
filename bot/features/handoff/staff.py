"""Talking to a person, the staff's side: take a request, answer, close, list them, draft an FAQ entry."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from bot import texts
from bot.common.clock import BRUSSELS
from bot.core.messages import Button, Reply
from bot.core.outbox import enqueue
from bot.core.turn import IDLE, Turn
from bot.features import learning
from bot.features.faq import mask_personal_details
from bot.features.handoff import desk
from bot.features.handoff.actions import (
    set_state_of,
)
from bot.features.handoff.common import (
    DRAFTS_DIR_NAME,
    MAX_SUBJECT_CHARS,
    STAFF_TICKET,
    button,
    button_tickets,
    display_name,
    filiere_of,
    list_line,
)
from bot.features.handoff.queries import followed_ticket, open_tickets
from bot.storage.models import (
    Ticket,
    TicketStatus,
)

log = logging.getLogger(__name__)


def claim(turn: Turn, ticket_id: int) -> list[Reply]:
    """Take a ticket (of two workers pressing at once exactly one wins); say so where it was pressed."""
    assert turn.user is not None
    worker, session, now, settings = turn.user, turn.session, turn.now, turn.services.settings
    taken = desk.take(session, settings, now, worker, ticket_id)
    ticket = taken.ticket
    if ticket is None:
        return [Reply(texts.TICKET_UNKNOWN)]
    if taken.outcome is desk.Taking.NOT_OPEN:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket.id))]
    if taken.outcome is desk.Taking.ALREADY_YOURS:
        return _follow_replies(turn, ticket)
    if taken.outcome is desk.Taking.TAKEN_BY_OTHER:
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=display_name(ticket.worker)))]
    if turn.message.chat_id is not None:
        # Pressed in the staff group: everyone sees who took it there; the worker gets the details
        # in private, where the conversation with the trainee happens.
        set_state_of(worker, STAFF_TICKET, now, ticket=ticket.id)
        enqueue(
            session,
            now,
            worker.channel,
            worker.external_id,
            _follow_replies(turn, ticket, set_state=False),
            user_id=ticket.trainee_id,
        )
        claimed = texts.TICKET_CLAIMED.format(
            worker=display_name(worker), id=ticket.id, name=display_name(ticket.trainee)
        )
        return [Reply(claimed)]
    desk.tell_others_taken(session, settings, now, worker, ticket)
    return _follow_replies(turn, ticket)


def _follow_replies(turn: Turn, ticket: Ticket, *, set_state: bool = True) -> list[Reply]:
    trainee = ticket.trainee
    if set_state:
        turn.set_state(STAFF_TICKET, ticket=ticket.id)
    lines = [texts.TICKET_YOURS.format(id=ticket.id, name=display_name(trainee), filiere=filiere_of(trainee))]
    if ticket.subject:
        lines.append(texts.TICKET_ALERT_SUBJECT.format(subject=ticket.subject))
    if ticket.phone:
        lines.append(texts.TICKET_ALERT_PHONE.format(phone=ticket.phone))
    for message in ticket.messages[-5:]:
        if message.author == "trainee":
            lines.append(f"« {message.text} »" if message.text else f"({message.attachment})")
    return [Reply("\n".join(lines), (button(f"close.{ticket.id}", texts.BUTTON_CLOSE),))]


def follow(turn: Turn, ticket_id: int) -> list[Reply]:
    """Make one of the worker's tickets the one their next messages go to."""
    assert turn.user is not None
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != TicketStatus.OPEN.value:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket_id))]
    if ticket.claimed_by_id is None:
        return claim(turn, ticket_id)
    if ticket.claimed_by_id != turn.user.id:
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=display_name(ticket.worker)))]
    return _follow_replies(turn, ticket)


def staff_message(turn: Turn) -> list[Reply]:
    """Relay what a worker writes in private to the trainee of the ticket they follow."""
    ticket = followed_ticket(turn)
    if ticket is None:
        turn.set_state(IDLE)
        return [Reply(texts.TICKET_NONE_FOLLOWED, (button_tickets(),))]
    return desk.relay_to_trainee(turn, ticket)


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
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=display_name(ticket.worker)))]
    return desk.relay_to_trainee(turn, ticket)


def close_by_staff(turn: Turn, ticket_id: int) -> list[Reply]:
    """Close a ticket (its worker, or an admin); ask the trainee whether it helped."""
    assert turn.user is not None
    worker, session, now = turn.user, turn.session, turn.now
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return [Reply(texts.TICKET_UNKNOWN)]
    if ticket.status != TicketStatus.OPEN.value:
        return [Reply(texts.TICKET_NOT_OPEN.format(id=ticket.id))]
    if not desk.may_close(ticket, worker):
        return [Reply(texts.TICKET_ALREADY_TAKEN.format(id=ticket.id, worker=display_name(ticket.worker)))]
    desk.close(session, turn.services.settings, now, ticket, worker)
    if turn.state == STAFF_TICKET:
        turn.set_state(IDLE)
    buttons = [button_tickets()]
    if any(message.author == "staff" and message.text for message in ticket.messages):
        buttons.insert(0, button(f"draft.{ticket.id}", texts.BUTTON_DRAFT))
    closed = texts.TICKET_CLOSED_STAFF.format(id=ticket.id)
    # The worker knows best whether an FAQ entry answered the subject: one tap teaches it to the bot.
    offer = learning.ticket_offer(turn, ticket)
    if offer is not None:
        return [Reply(f"{closed}\n{offer.text}", (*offer.buttons, *buttons))]
    return [Reply(closed, tuple(buttons))]


def list_tickets(turn: Turn) -> list[Reply]:
    """Show staff the open tickets, with a button to take or follow each (in private)."""
    tickets = open_tickets(turn.session)
    if not tickets:
        return [Reply(texts.TICKET_LIST_EMPTY)]
    lines = [texts.TICKET_LIST_TITLE]
    buttons: list[Button] = []
    for ticket in tickets:
        lines.append(list_line(ticket, turn.now))
        if turn.message.chat_id is not None or len(buttons) >= 8:
            continue
        if ticket.claimed_by_id is None:
            buttons.append(
                button(f"claim.{ticket.id}", f"✋ Prendre n°{ticket.id} ({display_name(ticket.trainee)})")
            )
        elif turn.user is not None and ticket.claimed_by_id == turn.user.id:
            buttons.append(
                button(f"follow.{ticket.id}", f"💬 Écrire à {display_name(ticket.trainee)} (n°{ticket.id})")
            )
    return [Reply("\n".join(lines), tuple(buttons))]


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
    names = [
        name for name in (ticket.trainee.first_name, turn.user.first_name if turn.user else None) if name
    ]
    question = impersonal(question, names)
    answers = [kept for answer in answers if (kept := impersonal(answer, names))]
    if not answers:
        return [Reply(texts.TICKET_DRAFT_EMPTY)]
    path = _write_draft_file(directory, ticket.id, question, answers, display_name(turn.user), turn.now)
    log.info("FAQ draft written for ticket %d", ticket.id)
    shown = (
        path.relative_to(turn.services.settings.faq_dir.parent)
        if path.is_relative_to(turn.services.settings.faq_dir.parent)
        else path
    )
    return [Reply(texts.TICKET_DRAFT_WRITTEN.format(path=shown))]


_GREETING = re.compile(r"^\s*(?:bonjour|bonsoir|salut|coucou|hello|re)\b[^.!?\n]*?(?:[,.!:]+|$)\s*", re.I)
_SIGN_OFF = re.compile(
    r"[\s,]*\b(?:bonne (?:journée|soirée|fin de journée|chance)|à bientôt|à plus|cordialement|bisous)\b"
    r"[^\n]*$",
    re.I,
)


def impersonal(text: str, names: Sequence[str]) -> str:
    """Return a message without its greeting, its sign-off and the people's first names (for a draft)."""
    text = _SIGN_OFF.sub("", _GREETING.sub("", text.strip()))
    for name in names:
        text = re.sub(rf"[\s,]*\b{re.escape(name)}\b", "", text, flags=re.I)
    text = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"^[\s,.!:-]+", "", text)).strip()
    return text[:1].upper() + text[1:]


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
