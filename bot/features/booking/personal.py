"""What booking keeps about a trainee (each appointment, then its reminders), and what erasing it means."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from bot import texts
from bot.common.clock import as_utc
from bot.core.messages import Reply
from bot.core.outbox import enqueue
from bot.core.personal import DataSection, PersonalTable, show_date, show_date_time, show_named
from bot.core.turn import Turn
from bot.features.booking.common import AVAILABILITY, account_of, spoken_when, worker_display_name
from bot.features.booking.queries import upcoming
from bot.features.reminding import REMINDERS, reminders_of_appointment
from bot.storage.models import AppointmentStatus

_APPOINTMENT_STATUS = {"booked": "prévu", "cancelled": "annulé", "done": "fait", "no_show": "absent"}
_CANCELLED_BY = {"trainee": "par vous", "staff": "par l'équipe"}

APPOINTMENTS = PersonalTable(
    "appointments",
    {
        "starts_at": ("Rendez-vous le", show_date_time),
        "ends_at": ("Fin", show_date_time),
        "worker_id": ("Avec", str),
        "reason": ("Motif", str),
        "status": ("État", show_named(_APPOINTMENT_STATUS)),
        "booked_at": ("Réservé le", show_date),
        "confirmed_at": ("« Je serai là » le", show_date),
        "cancelled_at": ("Annulé le", show_date),
        "cancelled_by": ("Annulé", lambda who: _CANCELLED_BY.get(who, "(non)")),
    },
    internal=frozenset({"id", "trainee_id", "moved_from_id"}),
)


def erasure_warning(turn: Turn) -> str | None:
    """Say, in the /oublier question, which coming appointments erasing cancels."""
    coming = upcoming(turn.session, turn.user, turn.now) if turn.user is not None else []
    if not coming:
        return None
    when = spoken_when(coming[0].starts_at, turn.now)
    return texts.counted(texts.FORGET_CANCELS_APPOINTMENTS, len(coming), when=when)


def tell_workers_of_erasure(turn: Turn) -> None:
    """Tell each social worker that an appointment is cancelled, without saying whose (it is erased)."""
    if turn.user is None:
        return
    for appointment in upcoming(turn.session, turn.user, turn.now):
        worker = turn.services.get(AVAILABILITY).refresh().worker(appointment.worker_id)
        recipient = (account_of(worker) if worker is not None else None) or turn.services.settings.staff_group
        if recipient is None:
            continue
        when = spoken_when(appointment.starts_at, turn.now)
        notice = Reply(texts.STAFF_ERASED_APPOINTMENT.format(when=when))
        # Linked to nobody: the person's rows (and their outbox rows) are erased in this transaction.
        enqueue(turn.session, turn.now, *recipient, [notice], user_id=None)


def describe_appointments(turn: Turn) -> DataSection | None:
    """Return the appointments of the turn's person, each with its reminders."""
    appointments = sorted(turn.user.appointments, key=lambda row: row.starts_at) if turn.user else []
    if not appointments:
        return None
    session = object_session(appointments[0])
    availability = turn.services.get(AVAILABILITY).refresh()
    lines = []
    for appointment in appointments:
        worker = worker_display_name(availability, appointment.worker_id)
        lines += APPOINTMENTS.block(appointment, worker_id=worker)
        for reminder in reminders_of_appointment(session, appointment.id) if session is not None else []:
            lines += REMINDERS.block(reminder, nested=True)
    now = turn.services.clock.now()
    coming = [
        row
        for row in appointments
        if row.status == AppointmentStatus.BOOKED.value and as_utc(row.starts_at) > now
    ]
    if coming:
        summary = texts.counted(
            texts.MY_DATA_APPOINTMENTS, len(appointments), next=spoken_when(coming[0].starts_at, now)
        )
    else:
        summary = texts.counted(texts.MY_DATA_APPOINTMENTS_PAST, len(appointments))
    return DataSection(summary, texts.MY_DATA_APPOINTMENTS_TITLE, lines)
