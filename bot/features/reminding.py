"""The reminders table, shared by appointments and module sessions: how /mesdonnees reads a reminder."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.personal import PersonalTable, show_date, show_date_time
from bot.storage.models import Reminder

_DELIVERY = {"sent": "envoyé", "delivered": "arrivé sur le téléphone", "read": "lu", "failed": "pas arrivé"}


def _when(kind: str) -> str:
    """Say when a reminder goes ("2h", "veille1800@<start>") in words: "2 h avant", "la veille à 18 h 00"."""
    name = kind.partition("@")[0]
    if name.startswith("veille") and name[6:].isdigit() and len(name) == 10:
        return f"la veille à {int(name[6:8])} h {name[8:10]}"
    if name.endswith("h"):
        return f"{name[:-1].replace('.', ',')} h avant"
    return name


REMINDERS = PersonalTable(
    "reminders",
    {
        "kind": ("Rappel", _when),
        "due_at": ("Prévu le", show_date_time),
        "sent_at": ("Envoyé le", show_date),
        "delivery_status": ("Reçu", lambda status: _DELIVERY.get(status, "(pas d'information)")),
        "status_at": ("Le", show_date),
    },
    # The platform's id of the message sent: only links its delivery statuses to the reminder.
    internal=frozenset({"id", "user_id", "appointment_id", "session_id", "platform_ref"}),
)


def reminders_of_appointment(session: Session, appointment_id: int) -> list[Reminder]:
    """Return an appointment's reminders, first due first."""
    query = select(Reminder).where(Reminder.appointment_id == appointment_id).order_by(Reminder.due_at)
    return list(session.scalars(query))


def session_reminders_of(session: Session, user_id: int) -> list[Reminder]:
    """Return a person's reminders of module sessions, first due first."""
    query = (
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.session_id.is_not(None))
        .order_by(Reminder.due_at)
    )
    return list(session.scalars(query))
