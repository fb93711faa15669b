"""Talking to a person: the button kind, the dialogue states, limits and the words shown about a request."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.messages import Button
from bot.core.payloads import ButtonKind, go_button
from bot.core.turn import Turn, display_name
from bot.features.hours import OFFICE_HOURS
from bot.storage.models import (
    Ticket,
    User,
)

log = logging.getLogger(__name__)


# A request to talk to a person: skip, back, cancel, claim.<id>, close.<id>, fb.<id>.up...
TICKET = ButtonKind(
    "tk", r"skip|back|stay|cancel|(?:claim|close|draft|follow)\.\d{1,10}|fb\.\d{1,10}\.(?:up|down)"
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


TICKET_ARGUMENT = re.compile(r"(claim|close|draft|follow)\.(\d+)|fb\.(\d+)\.(up|down)")


def button(argument: str, title: str) -> Button:
    """Return a button of a request."""
    return TICKET.button(argument, title)


def filiere_of(user: User) -> str:
    """Return " (<filière>)" for a trainee who gave one, else nothing."""
    return f" ({user.filiere})" if user.filiere else ""


def spoken_when(moment: datetime, now: datetime) -> str:
    """Say when something happened, in Brussels time: "aujourd'hui à 14 h 05", "le 24/11 à 9 h 00"."""
    local, today = as_utc(moment).astimezone(BRUSSELS), as_utc(now).astimezone(BRUSSELS).date()
    clock = f"{local.hour} h {local.minute:02d}"
    if local.date() == today:
        return f"aujourd'hui à {clock}"
    if local.date() == today - timedelta(days=1):
        return f"hier à {clock}"
    return f"le {local:%d/%m} à {clock}"


def trainee_buttons() -> tuple[Button, ...]:
    """Return the trainee's ways out of a request: back to the bot, cancel it."""
    return (button("back", texts.BUTTON_BACK_TO_BOT), button("cancel", texts.BUTTON_CANCEL_REQUEST))


def answer_timing(turn: Turn) -> str:
    """Say when someone will answer: now, at the next opening, or that the hours are unknown."""
    hours = turn.services.get(OFFICE_HOURS)
    if hours is None:
        return texts.HANDOFF_NO_HOURS
    if hours.is_open(turn.now):
        return texts.HANDOFF_OPEN_NOW
    return texts.HANDOFF_CLOSED_NOW.format(when=hours.describe_next_opening(turn.now))


def call_timing(turn: Turn) -> str:
    """Say when someone will call back: now, at the next opening, or as soon as possible."""
    hours = turn.services.get(OFFICE_HOURS)
    if hours is None:
        return texts.CALL_NO_HOURS
    if hours.is_open(turn.now):
        return texts.CALL_OPEN_NOW
    return texts.CALL_CLOSED_NOW.format(when=hours.describe_next_opening(turn.now))


def request_retention(settings: Settings) -> str:
    """Say how long requests are kept."""
    return texts.retention_text(settings.ticket_retention_days)


def button_tickets() -> Button:
    """Return the button that lists the open requests."""
    return go_button("tickets", texts.BUTTON_TICKETS)


def list_line(ticket: Ticket, now: datetime) -> str:
    """Return the line of one open request in the staff's list."""
    trainee = ticket.trainee
    who = (
        texts.TICKET_WAITING
        if ticket.worker is None
        else texts.TICKET_FOLLOWED_BY.format(worker=display_name(ticket.worker))
    )
    return texts.TICKET_LIST_LINE.format(
        id=ticket.id,
        name=display_name(trainee),
        filiere=filiere_of(trainee),
        channel=texts.CHANNEL_NAMES.get(trainee.channel, trainee.channel),
        opened=spoken_when(ticket.opened_at, now).removeprefix("le "),
        who=who,
    )
