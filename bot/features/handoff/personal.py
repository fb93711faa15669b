"""What a request to a person keeps about the trainee: the request, then each of its messages."""

from __future__ import annotations

from bot import texts
from bot.core.personal import DataSection, PersonalTable, show_date, show_named, show_quoted, show_text
from bot.core.turn import Turn

_TICKET_STATUS = {"open": "en cours", "closed": "terminée"}
_CLOSED_BY = {"staff": "par l'équipe", "trainee": "par vous", "expired": "automatiquement"}
_FEEDBACK = {"up": "👍 ça m'a aidé", "down": "👎 ça ne m'a pas aidé"}
_ATTACHMENTS = {"voice": "un message vocal", "photo": "une photo", "document": "un fichier"}

TICKETS = PersonalTable(
    "tickets",
    {
        "opened_at": ("Demande à une personne, le", show_date),
        "subject": ("Sujet", show_text),
        "status": ("État", show_named(_TICKET_STATUS)),
        "claimed_at": ("Prise en charge le", show_date),
        "escalated_at": ("Rappelée à l'équipe le", show_date),
        "closed_at": ("Terminée le", show_date),
        "closed_by": ("Terminée", lambda who: _CLOSED_BY.get(who, "(non)") if who else "(non)"),
        "feedback": ("Votre avis", lambda verdict: _FEEDBACK.get(verdict, "(pas donné)")),
        "phone": ("Numéro pour vous rappeler", show_text),
    },
    # Which staff member took it, and where the staff were alerted: the staff's side, not the
    # trainee's data (the worker's first name is in the messages the trainee received).
    internal=frozenset({"id", "trainee_id", "claimed_by_id", "alert_ref"}),
)
TICKET_MESSAGES = PersonalTable(
    "ticket_messages",
    {
        "sent_at": ("Message du", show_date),
        "author": ("De", lambda author: "vous" if author == "trainee" else "l'équipe"),
        "text": ("Texte", show_quoted),
        "attachment": ("Pièce jointe", show_named(_ATTACHMENTS, missing="aucune")),
    },
    internal=frozenset({"id", "ticket_id", "staff_id", "attachment_ref"}),
)


def describe_tickets(turn: Turn) -> DataSection | None:
    """Return the requests to a person of the turn's person, each with its messages, whole."""
    tickets = sorted(turn.user.tickets, key=lambda ticket: ticket.opened_at) if turn.user else []
    if not tickets:
        return None
    lines = []
    for ticket in tickets:
        lines += TICKETS.block(ticket)
        for message in ticket.messages:
            lines += TICKET_MESSAGES.block(message, nested=True)
    still_open = sum(ticket.status == "open" for ticket in tickets)
    if still_open:
        state = texts.counted(texts.MY_DATA_TICKETS_OPEN, still_open)
    else:
        state = texts.MY_DATA_TICKETS_NONE_OPEN if len(tickets) == 1 else texts.MY_DATA_TICKETS_NONE_OPEN_MANY
    summary = texts.counted(texts.MY_DATA_TICKETS, len(tickets), state=state)
    return DataSection(summary, texts.MY_DATA_TICKETS_TITLE, lines)
