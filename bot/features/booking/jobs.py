"""Appointments' periodic jobs: reminders before an appointment, each worker's agenda at 8:00."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.messages import Reply
from bot.core.outbox import enqueue
from bot.core.turn import Services
from bot.features.booking.common import AVAILABILITY, account_of, button, place, spoken_when
from bot.features.booking.queries import day_of_worker
from bot.features.booking.staff import agenda_lines
from bot.features.hours import OFFICE_HOURS
from bot.files.availability import Availability
from bot.storage.models import (
    Appointment,
    AppointmentStatus,
    JobRun,
    Reminder,
)

log = logging.getLogger(__name__)


def send_due_reminders(
    session: Session, settings: Settings, availability: Availability, now: datetime
) -> int:
    """Push the reminders that are due, each exactly once (the row is locked, then marked sent)."""
    query = (
        select(Reminder)
        .where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(200)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    count = 0
    for reminder in session.scalars(query):
        reminder.sent_at = now
        appointment = session.get(Appointment, reminder.appointment_id) if reminder.appointment_id else None
        if (
            appointment is None
            or appointment.status != AppointmentStatus.BOOKED.value
            or appointment.starts_at <= now
        ):
            continue  # cancelled or moved meanwhile: nothing to remind
        trainee = appointment.trainee
        if trainee.notifications_paused:
            continue  # /stop: the person asked for no reminders
        worker = availability.worker(appointment.worker_id)
        text = texts.BOOK_REMINDER.format(
            when=spoken_when(appointment.starts_at, now),
            worker=worker.name if worker is not None else appointment.worker_id,
            place=place(worker),
        )
        buttons = (
            button(f"here.{appointment.id}", texts.BUTTON_WILL_BE_THERE),
            button(f"x.{appointment.id}", texts.BUTTON_CANCEL_APPOINTMENT),
        )
        enqueue(
            session,
            now,
            trainee.channel,
            trainee.external_id,
            [Reply(text, buttons)],
            user_id=trainee.id,
            reminder_id=reminder.id,
        )
        count += 1
    if count:
        log.info("%d appointment reminders sent", count)
    return count


def send_agendas(
    session: Session, settings: Settings, availability: Availability, hours: object, now: datetime
) -> bool:
    """At 8:00 on working days, send each social worker the day's appointments, once per day."""
    from bot.files.office_hours import OfficeHours

    local = as_utc(now).astimezone(BRUSSELS)
    today = local.date()
    if local.hour < 8 or today.weekday() >= 5:
        return False
    if isinstance(hours, OfficeHours) and hours.is_closed_day(today):
        return False
    if session.get(JobRun, ("agenda", today.isoformat())) is not None:
        return False
    session.add(JobRun(job="agenda", period=today.isoformat(), done_at=now))
    session.flush()
    for worker in availability.workers:
        account = account_of(worker)
        if account is None:
            continue
        appointments = day_of_worker(session, worker.id, today)
        if not appointments:
            replies = [Reply(texts.STAFF_AGENDA_EMPTY.format(worker=worker.name))]
        else:
            lines, buttons = agenda_lines(appointments, now)
            replies = [
                Reply("\n".join([texts.STAFF_AGENDA.format(worker=worker.name), *lines]), tuple(buttons))
            ]
        enqueue(session, now, account[0], account[1], replies)
    return True


def reminders_job(session: Session, services: Services, now: datetime) -> None:
    """Send the reminders that are due (the periodic job)."""
    send_due_reminders(session, services.settings, services.get(AVAILABILITY).refresh(), now)


def agendas_job(session: Session, services: Services, now: datetime) -> None:
    """Send each worker the day's agenda at 8:00 (the periodic job)."""
    availability = services.get(AVAILABILITY).refresh()
    send_agendas(session, services.settings, availability, services.get(OFFICE_HOURS), now)
