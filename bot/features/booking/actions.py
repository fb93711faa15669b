"""Appointments: what a booking or a cancellation writes and tells (reminders, the worker, the .ics)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot import texts
from bot.config import Settings
from bot.core.messages import Document, Reply
from bot.core.outbox import enqueue
from bot.core.turn import Turn
from bot.features.booking.common import AVAILABILITY, account_of
from bot.files.availability import Worker
from bot.files.calendar import appointment_ics
from bot.storage.models import Appointment, AppointmentStatus, DayOff, Reminder


def tell_worker(turn: Turn, worker_id: str, text: str, appointment: Appointment) -> None:
    """Tell the social worker (their own chat; without an account, the staff group)."""
    worker = turn.services.get(AVAILABILITY).refresh().worker(worker_id)
    account = account_of(worker) if worker is not None else None
    recipient = account or turn.services.settings.staff_group
    if recipient is not None:
        enqueue(turn.session, turn.now, *recipient, [Reply(text)], user_id=appointment.trainee_id)


def schedule_reminders(session: Session, settings: Settings, appointment: Appointment, now: datetime) -> None:
    """Add the reminders of a new appointment (those still in the future)."""
    for hours in settings.reminder_hours:
        due = appointment.starts_at - timedelta(hours=hours)
        if due > now:  # a reminder 24 h before an appointment booked for tomorrow morning is not sent late
            session.add(
                Reminder(
                    user_id=appointment.trainee_id,
                    appointment_id=appointment.id,
                    kind=f"{hours:g}h",
                    due_at=due,
                )
            )


def ics(turn: Turn, appointment: Appointment, worker: Worker | None) -> Document:
    """Return the appointment as an .ics file for the phone's calendar."""
    settings = turn.services.settings
    name = worker.name if worker is not None else appointment.worker_id
    content = appointment_ics(
        uid=f"rdv-{appointment.id}@cisp-bot",
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=texts.BOOK_ICS_SUMMARY.format(worker=name, centre=settings.centre_name),
        location=worker.place if worker is not None else None,
        description=appointment.reason,
        stamp=turn.now,
    )
    return Document("rendez-vous.ics", content, "text/calendar")


def cancel(session: Session, appointment: Appointment, now: datetime, *, by: str) -> None:
    """Mark an appointment cancelled (by the trainee or the staff): its slot is free at once."""
    # Leaving the "booked" status takes the row out of the unique index: the slot is free at once.
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancelled_by = by


def set_days_off(session: Session, worker_id: str, first: date, last: date, *, remove: bool = False) -> int:
    """Add (or remove) a worker's days off from first to last; return how many days changed."""
    changed = 0
    day = first
    while day <= last:
        existing = session.get(DayOff, (worker_id, day))
        if remove and existing is not None:
            session.delete(existing)
            changed += 1
        elif not remove and existing is None:
            session.add(DayOff(worker_id=worker_id, day=day))
            changed += 1
        day += timedelta(days=1)
    return changed
